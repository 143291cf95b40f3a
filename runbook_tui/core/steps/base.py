"""The one small interface every step kind implements.

The engine and the UI know only "a step that emits output and ends with an
outcome"; each kind (shell, http, docker, ...) is one module under ``core/steps/``
that defines ``KIND``, a :class:`KindDef`: its spec, keys, reader, description and
runner class. Runners receive the step with parameters already substituted (shell
commands quoted) and report through a :class:`StepContext`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ..model import Step, StepKind

if TYPE_CHECKING:
    from ..events import StepStatus
    from ..loader.nodes import MappedNode, NodeReader


class StepContext(Protocol):
    """What a runner may use while it runs: where, with what, and where output goes."""

    @property
    def workdir(self) -> Path: ...

    @property
    def env(self) -> Mapping[str, str]:
        """Environment for child processes (the process's own, plus the runbook's)."""
        ...

    @property
    def drill(self) -> bool: ...

    @property
    def backup_dir(self) -> Path:
        """Where file edits keep their backups for undo."""
        ...

    def output(self, text: str, stream: str = "stdout") -> None:
        """One line of output (no trailing newline); ``stream`` is stdout, stderr or info."""
        ...

    def output_lines(self, lines: list[str], stream: str = "stdout") -> None:
        """Several lines that arrived together, in order: the same as ``output`` for each, cheaper."""
        ...


@dataclass(frozen=True, slots=True)
class FileEdit:
    """A planned edit: the file, its bytes before and after, and the diff to show."""

    path: Path
    before: bytes
    after: bytes
    diff: str
    summary: str
    allow_read_only: bool = False  # the step said so (``allow_read_only: true``)


@dataclass(frozen=True, slots=True)
class AppliedEdit:
    """An edit written to disk, with the backup that undoes it."""

    path: Path
    backup: Path
    diff: str
    before_sha256: str
    after_sha256: str


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """How a step ended. ``data`` carries results such as a list of tags for choices."""

    status: StepStatus
    message: str = ""
    exit_code: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    edit: AppliedEdit | None = None

    @classmethod
    def passed(cls, message: str = "", **data: Any) -> StepOutcome:
        # The events module loads when a step ends, not with every kind module (loading a runbook).
        from ..events import StepStatus

        return cls(StepStatus.PASSED, message, data=data)

    @classmethod
    def failed(cls, message: str, **data: Any) -> StepOutcome:
        from ..events import StepStatus

        return cls(StepStatus.FAILED, message, data=data)


class StepRunner(ABC):
    """Runs one kind of step. Cancellation arrives as ``asyncio.CancelledError``."""

    kind: ClassVar[StepKind]

    @abstractmethod
    async def run(self, step: Step, ctx: StepContext) -> StepOutcome:
        """Do the step, stream output through ``ctx.output``, and say how it ended."""

    def describe(self, step: Step) -> str:
        """One line saying what the step will do, with parameters filled in."""
        return step.title

    def plan_edit(self, step: Step, ctx: StepContext) -> FileEdit | None:
        """For steps that edit a file: the edit to confirm, computed without writing."""
        return None


# --- what a kind module declares ---------------------------------------------------


def frozen_map(value: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """A read-only copy of ``value`` (the default of a spec's mapping fields)."""
    return MappingProxyType(dict(value or {}))


SpecReader = Callable[["NodeReader", "MappedNode", str], Any]


def no_description(_spec: Any) -> str | None:
    """A kind without a text of its own: the screens show the step's title."""
    return None


@dataclass(frozen=True, slots=True)
class KindDef:
    """One step kind, as its module declares it in ``KIND`` (the kind's name is the module's).

    ``keys`` are the kind's own keys (the generic step keys are the loader's);
    ``read`` builds the spec from a checked mapping, reporting problems through
    the reader, and returns None when the step cannot be built. ``describe``
    gives the text shown for a step before it runs (None: its title).
    ``runner`` is the class that runs the kind's steps (or a function that builds
    the runner, when even its base class is costly to import: ansible's stands on the
    fleet), or None when the engine handles the kind itself (manual, confirm).
    ``fleet``: the kind also takes the fleet keys (targets, serial, ...).
    ``shell``: its ``command`` and ``env`` get the loader's shell checks.
    ``edits``: its steps edit a file (``Step.is_edit``: the diff is shown and confirmed).
    """

    spec: type
    keys: frozenset[str]
    read: SpecReader
    required: tuple[str, ...] = ()
    describe: Callable[[Any], str | None] = no_description
    runner: Callable[[], StepRunner] | None = None
    fleet: bool = False
    shell: bool = False
    edits: bool = False
