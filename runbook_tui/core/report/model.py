"""The shape of a post-incident report: the rows, attempts and records the formats show.

Frozen values only; ``fold.py`` builds them from a journal, ``metrics.py`` holds
the time metrics, and the markdown, JSON and SVG formats read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import events as ev
from .metrics import Metrics


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the timeline."""

    at: float
    since_start: float
    kind: str  # the event kind it came from
    category: str  # session, decision, parameter, step, check, skip, confirmation, edit, note, ...
    text: str
    step_id: str | None = None
    role: str = ""

    @property
    def iso(self) -> str:
        return ev.iso_utc(self.at)

    @property
    def offset(self) -> str:
        return format_offset(self.since_start)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One start of one step, and how it ended."""

    step_id: str
    title: str
    step_kind: str
    phase: str
    attempt: int
    command: str
    role: str
    started_at: float
    finished_at: float | None
    status: str  # passed, failed, cancelled, unknown, interrupted, running
    duration: float | None
    message: str
    exit_code: int | None
    output_lines: int
    output_tail: tuple[str, ...]
    done_note: str = ""  # set when an interrupted step was marked done by hand
    last_output_at: float | None = None  # when it last printed (the end of an unfinished bar)

    @property
    def end_at(self) -> float:
        """When it finished, or the last sign of life of an attempt that never did."""
        if self.finished_at is not None:
            return self.finished_at
        return max(self.started_at, self.last_output_at or self.started_at)


@dataclass(frozen=True, slots=True)
class HostRow:
    """One host of a fleet step: its latest result ("not run" when it never started)."""

    host: str
    status: str
    batch: int | None = None
    duration: float | None = None
    rc: int | None = None
    message: str = ""
    attempt: int | None = None


@dataclass(frozen=True, slots=True)
class FleetStep:
    """A step that ran on a fleet: the pattern, and every matched host's row."""

    step_id: str
    title: str
    pattern: str
    hosts: tuple[HostRow, ...]


@dataclass(frozen=True, slots=True)
class Skip:
    step_id: str
    title: str
    reason: str
    at: float


@dataclass(frozen=True, slots=True)
class Edit:
    step_id: str
    path: str
    diff: str
    before_sha256: str
    after_sha256: str
    at: float
    undone_at: float | None = None


@dataclass(frozen=True, slots=True)
class Note:
    text: str
    at: float
    step_id: str | None = None
    author: str = ""


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    value: str  # redacted in the journal when secret; never re-read
    secret: bool
    source: str
    at: float


@dataclass(frozen=True, slots=True)
class Decision:
    row_id: str
    issue: str
    procedure_id: str | None
    deadline_seconds: float | None
    by: str
    at: float


@dataclass(frozen=True, slots=True)
class Confirmation:
    step_id: str
    message: str
    given: bool
    by: str
    at: float


@dataclass(frozen=True, slots=True)
class FilledTemplate:
    template_id: str
    text: str
    at: float


@dataclass(frozen=True, slots=True)
class Tick:
    checklist_id: str
    item: int  # 0-based index into the checklist's items
    done: bool
    at: float


@dataclass(frozen=True, slots=True)
class ActionItem:
    """A follow-up recorded during or after the session."""

    text: str
    owner: str
    due: str  # YYYY-MM-DD or ""
    author: str
    at: float
    step_id: str | None = None


@dataclass(frozen=True, slots=True)
class HandoffRow:
    """The operator changed hands."""

    from_operator: str
    to_operator: str
    reason: str  # "resume" or "handoff"
    running: tuple[str, ...]
    at: float


@dataclass(frozen=True, slots=True)
class Report:
    """Everything the markdown, JSON and SVG reports show."""

    path: str
    header: dict[str, Any]
    session_id: str
    runbook_id: str
    runbook_title: str
    runbook_path: str
    runbook_sha256: str
    app_version: str
    procedure_id: str
    procedure_title: str
    mode: str
    operator: str
    workdir: str
    started_at: float | None
    finished_at: float | None
    outcome: str  # succeeded, failed, aborted, unfinished
    finish_message: str
    metrics: Metrics
    timeline: tuple[Row, ...]
    attempts: tuple[Attempt, ...]
    skips: tuple[Skip, ...]
    edits: tuple[Edit, ...]
    notes: tuple[Note, ...]
    parameters: tuple[Parameter, ...]
    decisions: tuple[Decision, ...]
    confirmations: tuple[Confirmation, ...]
    templates: tuple[FilledTemplate, ...]  # the latest text of each template filled
    ticks: tuple[Tick, ...]  # the final state of each checklist item touched
    resumes: tuple[Row, ...]
    torn_tail: bool
    problems: tuple[str, ...]
    output_lines: int
    fleet: tuple[FleetStep, ...] = ()  # per-host tables of the steps that ran on a fleet
    # Plans shown before the run (``plan`` events): what was reviewed, and what could not be planned.
    plans: tuple[ev.PlanReviewed, ...] = ()
    # Issue 17: the record as evidence (defaults keep older constructions working).
    action_items: tuple[ActionItem, ...] = ()
    handoffs: tuple[HandoffRow, ...] = ()
    roles: tuple[tuple[str, str], ...] = ()  # (role, name) as last set
    milestone_problems: tuple[str, ...] = ()  # milestones out of order: flagged, never hidden
    chain: dict[str, Any] = field(default_factory=dict)  # head hash, key fingerprint, verdict

    @property
    def ticked(self) -> tuple[Attempt, ...]:
        """Manual steps ticked without anyone doing them (``--yes``): not passes, shown apart."""
        return tuple(a for a in self.attempts if a.status == "ticked")

    @property
    def failed(self) -> tuple[Attempt, ...]:
        return tuple(a for a in self.attempts if a.status in ("failed", "interrupted", "cancelled"))

    def since_start(self, at: float) -> float:
        return at - self.started_at if self.started_at is not None else 0.0


def format_offset(seconds: float) -> str:
    """``+mm:ss`` since the start (minutes keep counting past an hour)."""
    sign = "-" if seconds < 0 else "+"
    whole = int(abs(seconds))
    return f"{sign}{whole // 60:02d}:{whole % 60:02d}"
