"""Typed drafts of what the importer found, each with its Markdown line, before emission.

The line of each draft is what ``emit`` turns into the YAML-to-Markdown line map; the
fields hold the runbook keys in the order they are written out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .text import Source

if TYPE_CHECKING:  # shell_blocks makes these drafts; the context only holds its Params
    from .shell_blocks import Params

Option = tuple[int, str]  # (group number, option name): the alternative a step belongs to


@dataclass(frozen=True)
class ReportLine:
    """One line of ``import --report``: a source line and what it became."""

    line: int
    what: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.what}"


@dataclass
class Entry:
    """A mapping of the runbook (a table row, a template, a reference section...) and its line."""

    line: int
    fields: dict[str, Any]


@dataclass
class StepDraft:
    """A step: its runbook keys, plus why it was gated or made a watch (for the report)."""

    line: int
    fields: dict[str, Any]
    alt: Option | None = None
    gate: str | None = None
    watch: str | None = None

    @property
    def title(self) -> str:
        return str(self.fields["title"])


@dataclass
class ProcedureDraft:
    """A procedure: ``fields`` holds its keys; ``steps``, ``verification``, ``prechecks`` hold drafts."""

    line: int
    fields: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.fields["id"])

    @property
    def title(self) -> str:
        return str(self.fields["title"])

    def step_lists(self) -> list[list[StepDraft]]:
        """The step lists it has, in document order (prechecks, steps, verification)."""
        return [self.fields[k] for k in ("prechecks", "steps", "verification") if k in self.fields]


@dataclass
class MatrixDraft:
    """The decision matrix: the first decision table's columns, the rows of all of them."""

    line: int
    columns: list[str]
    rows: list[Entry]


@dataclass
class ParameterDraft:
    """A parameter: where it was met, as what (``<release>``), and the line a suggestion came from."""

    line: int
    name: str
    form: str
    fields: dict[str, Any]
    said: int | None = None


@dataclass
class Context:
    """What every part of the import shares: the source, the parameters met, the report."""

    source: Source
    params: Params
    report: list[ReportLine] = field(default_factory=list)

    def note(self, line: int, what: str) -> None:
        """Add a line to the report."""
        self.report.append(ReportLine(line, what))


@dataclass
class RunbookDraft:
    """Everything found in the document, by runbook key."""

    procedures: list[ProcedureDraft] = field(default_factory=list)
    matrix: MatrixDraft | None = None
    out: dict[str, list[Entry]] = field(
        default_factory=lambda: {
            k: [] for k in ("roles", "contacts", "escalation", "alert_thresholds", "checklists", "templates")
        }
    )
    reference: list[Entry] = field(default_factory=list)
