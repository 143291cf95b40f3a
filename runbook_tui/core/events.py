"""Session events: frozen dataclasses with a ``kind``, serialised the same way everywhere.

A session *is* its events. The engine emits them, the journal appends them,
the app renders them, and the report and resume fold over them.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from .timestamps import iso_utc, parse_iso_utc

SCHEMA_VERSION = 1


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    NEEDS_YOU = "needs_you"  # waiting for a confirmation, a parameter or a tick
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # the session died while the step ran
    UNKNOWN = "unknown"  # its effect could not be known (never called "skipped")
    # A manual step nobody did: ticked by --yes in a headless run. It does not stop the
    # run or fail the session, but it is not a pass, and every report shows it apart.
    TICKED = "ticked"

    @property
    def is_final(self) -> bool:
        return self in _FINAL

    @property
    def is_ok(self) -> bool:
        """The run may go on past it (passed, skipped, or ticked by nobody)."""
        return self in (StepStatus.PASSED, StepStatus.SKIPPED, StepStatus.TICKED)


_FINAL = frozenset(
    {
        StepStatus.PASSED,
        StepStatus.FAILED,
        StepStatus.SKIPPED,
        StepStatus.CANCELLED,
        StepStatus.UNKNOWN,
        StepStatus.TICKED,
    }
)


class Phase(StrEnum):
    PRECHECK = "precheck"
    STEP = "step"
    VERIFICATION = "verification"


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABORTED = "aborted"


def now() -> float:
    """Seconds since the epoch, UTC."""
    return time.time()


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event; ``at`` is seconds since the epoch (UTC)."""

    kind: ClassVar[str] = "event"
    at: float = field(default_factory=now, kw_only=True)


@dataclass(frozen=True, slots=True)
class SessionStarted(Event):
    kind: ClassVar[str] = "session_started"
    session_id: str
    runbook_id: str
    runbook_title: str
    runbook_path: str
    runbook_sha256: str
    procedure_id: str
    procedure_title: str
    mode: str  # "live" or "drill"
    operator: str  # user@host
    app_version: str
    target_seconds: float | None = None
    window_text: str = ""
    workdir: str = ""
    impact_started_at: float | None = None


@dataclass(frozen=True, slots=True)
class DecisionMade(Event):
    """Triage picked a decision-matrix row (and so a procedure)."""

    kind: ClassVar[str] = "decision_made"
    row_id: str
    issue: str
    procedure_id: str | None
    deadline_seconds: float | None = None
    by: str = "engineer"  # "engineer" or "signal"


@dataclass(frozen=True, slots=True)
class ParameterSet(Event):
    kind: ClassVar[str] = "parameter_set"
    name: str
    value: str  # already redacted when the parameter is secret
    secret: bool = False
    source: str = "prompt"  # prompt, command-line, default, choices


@dataclass(frozen=True, slots=True)
class StepStarted(Event):
    kind: ClassVar[str] = "step_started"
    step_id: str
    title: str
    step_kind: str
    phase: str
    attempt: int = 1
    command: str = ""  # the command or action with parameters filled in (redacted)
    role: str = ""  # who does it (the step's ``role`` in the runbook), for the report


@dataclass(frozen=True, slots=True)
class OutputLine(Event):
    kind: ClassVar[str] = "output"
    step_id: str
    seq: int  # one sequence across stdout and stderr of a step
    stream: str  # "stdout", "stderr" or "info"
    text: str  # ANSI stripped, secrets redacted
    ansi: str = ""  # the line with its colours, for display only; never journaled


@dataclass(frozen=True, slots=True)
class StepFinished(Event):
    kind: ClassVar[str] = "step_finished"
    step_id: str
    status: str
    duration: float
    message: str = ""
    exit_code: int | None = None
    attempt: int = 1
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StepSkipped(Event):
    kind: ClassVar[str] = "step_skipped"
    step_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class StepInterrupted(Event):
    """Written on resume for a step that was running when the session died."""

    kind: ClassVar[str] = "step_interrupted"
    step_id: str
    attempt: int = 1


@dataclass(frozen=True, slots=True)
class StepMarkedDone(Event):
    """The engineer declared an interrupted or manual step done, with a note."""

    kind: ClassVar[str] = "step_marked_done"
    step_id: str
    note: str


@dataclass(frozen=True, slots=True)
class ConfirmationGiven(Event):
    kind: ClassVar[str] = "confirmation_given"
    step_id: str
    message: str
    by: str = "engineer"  # "engineer" or "--yes"


@dataclass(frozen=True, slots=True)
class ConfirmationDeclined(Event):
    kind: ClassVar[str] = "confirmation_declined"
    step_id: str
    message: str


@dataclass(frozen=True, slots=True)
class FileEdited(Event):
    kind: ClassVar[str] = "file_edited"
    step_id: str
    path: str
    backup: str
    diff: str  # unified diff, secrets redacted
    before_sha256: str
    after_sha256: str


@dataclass(frozen=True, slots=True)
class EditUndone(Event):
    kind: ClassVar[str] = "edit_undone"
    step_id: str
    path: str
    restored_sha256: str


@dataclass(frozen=True, slots=True)
class NoteAdded(Event):
    kind: ClassVar[str] = "note_added"
    text: str
    step_id: str | None = None
    author: str = ""


@dataclass(frozen=True, slots=True)
class MilestoneReached(Event):
    kind: ClassVar[str] = "milestone"
    milestone: str  # detected, acknowledged, mitigated, resolved
    step_id: str | None = None


@dataclass(frozen=True, slots=True)
class WindowWarning(Event):
    """80% of a window has passed. ``scope`` is "procedure" or a decision row id."""

    kind: ClassVar[str] = "window_warning"
    scope: str
    elapsed: float
    target: float


@dataclass(frozen=True, slots=True)
class WindowBreached(Event):
    kind: ClassVar[str] = "window_breached"
    scope: str
    elapsed: float
    target: float


@dataclass(frozen=True, slots=True)
class TemplateFilled(Event):
    kind: ClassVar[str] = "template_filled"
    template_id: str
    text: str


@dataclass(frozen=True, slots=True)
class ChecklistTicked(Event):
    kind: ClassVar[str] = "checklist_ticked"
    checklist_id: str
    item: int
    done: bool = True


@dataclass(frozen=True, slots=True)
class SessionResumed(Event):
    kind: ClassVar[str] = "session_resumed"
    operator: str
    torn_tail: bool = False
    runbook_changed: bool = False  # the runbook file's sha256 differs from the one at start


@dataclass(frozen=True, slots=True)
class SessionFinished(Event):
    kind: ClassVar[str] = "session_finished"
    outcome: str
    duration: float
    message: str = ""


@dataclass(frozen=True, slots=True)
class PreflightChecked(Event):
    """The pre-flight's findings were shown before the first step, and what was decided.

    Additive (schema 1): a reader that does not know it skips it.
    """

    kind: ClassVar[str] = "preflight"
    findings: tuple[str, ...] = ()  # one sentence each: a missing program or an unset variable
    accepted: bool = True  # False: the engineer stopped before the first step
    by: str = ""  # "engineer", "--accept-preflight", or "" when there was nothing to accept


@dataclass(frozen=True, slots=True)
class LockTakenOver(Event):
    """The working directory's lock named a holder whose process is gone; this session took it."""

    kind: ClassVar[str] = "lock_taken_over"
    workdir: str
    previous_session_id: str
    previous_operator: str
    previous_host: str
    previous_pid: int
    previous_started: str


@dataclass(frozen=True, slots=True)
class DamagedLineAccepted(Event):
    """The engineer chose to resume past a damaged journal line (``resume --accept-damaged``)."""

    kind: ClassVar[str] = "damaged_line_accepted"
    line: int  # 1-based line number in the journal
    step_id: str  # the step it belonged to, as far as its neighbours tell ("" if none)
    operator: str


@dataclass(frozen=True, slots=True)
class EditPlanned(Event):
    """Written (and fsynced) before a step's file edit touches the file: the write-ahead record.

    ``file_edited`` follows once the file is renamed into place. A journal that ends
    with a plan and no result is reconciled on resume from the file's sha256.
    """

    kind: ClassVar[str] = "edit_planned"
    step_id: str
    path: str  # the real path (symlinks resolved)
    backup: str  # where the bytes before the edit are kept
    diff: str  # unified diff, secrets redacted
    before_sha256: str
    after_sha256: str


@dataclass(frozen=True, slots=True)
class EditReconciled(Event):
    """What the file said about a planned edit that has no recorded result.

    ``found`` is "applied" (the file holds the after bytes; a ``file_edited`` follows),
    "not_applied" (it still holds the before bytes) or "changed" (neither; the step
    failed and nothing was written).
    """

    kind: ClassVar[str] = "edit_reconciled"
    step_id: str
    path: str
    found: str
    sha256: str  # the file's sha256 when it was checked ("" when it was missing)


class HostStatus(StrEnum):
    """How one host of a fleet step ended (Ansible's words)."""

    OK = "ok"
    FAILED = "failed"
    UNREACHABLE = "unreachable"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class HostStarted(Event):
    """A fleet step began its task on one host (``batch`` counts from 1, as ``serial`` cuts them)."""

    kind: ClassVar[str] = "host_started"
    step_id: str
    host: str
    batch: int = 1


@dataclass(frozen=True, slots=True)
class HostFinished(Event):
    """One host of a fleet step is done: ok, failed, unreachable or skipped."""

    kind: ClassVar[str] = "host_finished"
    step_id: str
    host: str
    status: str
    batch: int = 1
    duration: float = 0.0
    rc: int | None = None
    message: str = ""


@dataclass(frozen=True, slots=True)
class VariableCarried(Event):
    """A shell step assigned a variable at its top level: later steps of the session get it.

    ``value`` is ``REDACTED`` (and ``redacted`` true) for secret-looking names and
    declared secrets' values: those are kept in memory only, never journalled.
    """

    kind: ClassVar[str] = "variable_carried"
    name: str
    value: str
    step_id: str
    redacted: bool = False


@dataclass(frozen=True, slots=True)
class PlanReviewed(Event):
    """The plan of the procedure was shown before the run (``run --plan-first``, the app's plan)."""

    kind: ClassVar[str] = "plan"
    lines: tuple[str, ...] = ()  # the plan as it was shown, secrets masked
    unplanned: tuple[str, ...] = ()  # what could not be planned, one sentence each
    by: str = ""  # who looked at it: "engineer" or "--yes"


@dataclass(frozen=True, slots=True)
class RunFrom(Event):
    """The engineer chose to run again from ``step_id``: earlier steps not done are skipped over."""

    kind: ClassVar[str] = "run_from"
    step_id: str
    skipped: tuple[str, ...] = ()  # steps before it, not done, now skipped
    rerun: tuple[str, ...] = ()  # steps from it on that had ended and will run again
    by: str = ""  # operator (user@host) who chose it


@dataclass(frozen=True, slots=True)
class RetryRequested(Event):
    """The engineer chose to retry a failed step alone; its next attempt follows."""

    kind: ClassVar[str] = "retry_requested"
    step_id: str
    attempt: int  # the attempt that will run
    by: str = ""


@dataclass(frozen=True, slots=True)
class ImpactStartedSet(Event):
    """The start of impact, given or corrected after the session started (metrics run from it)."""

    kind: ClassVar[str] = "impact_started_set"
    impact_started_at: float
    source: str = "engineer"  # "engineer", "alert time", "now", "command-line"
    by: str = ""


@dataclass(frozen=True, slots=True)
class ActionItemAdded(Event):
    """A follow-up for after the incident, with an owner (and a due date, YYYY-MM-DD, when given)."""

    kind: ClassVar[str] = "action_item"
    text: str
    owner: str
    due: str = ""
    author: str = ""
    step_id: str | None = None


@dataclass(frozen=True, slots=True)
class RolesSet(Event):
    """Who holds which role now: ``{"incident_commander": "alice", ...}`` (the whole set, not a change)."""

    kind: ClassVar[str] = "roles_set"
    roles: dict[str, str]
    by: str = ""


@dataclass(frozen=True, slots=True)
class Handoff(Event):
    """The operator changed: a resume by someone else, or an explicit handoff in the app."""

    kind: ClassVar[str] = "handoff"
    from_operator: str
    to_operator: str
    reason: str = ""  # "resume" or "handoff"
    running: list[str] = field(default_factory=list)  # step ids running at the handoff


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        SessionStarted,
        DecisionMade,
        ParameterSet,
        StepStarted,
        OutputLine,
        StepFinished,
        StepSkipped,
        StepInterrupted,
        StepMarkedDone,
        ConfirmationGiven,
        ConfirmationDeclined,
        FileEdited,
        EditUndone,
        NoteAdded,
        MilestoneReached,
        WindowWarning,
        WindowBreached,
        TemplateFilled,
        ChecklistTicked,
        SessionResumed,
        SessionFinished,
        PreflightChecked,
        LockTakenOver,
        DamagedLineAccepted,
        EditPlanned,
        EditReconciled,
        HostStarted,
        HostFinished,
        VariableCarried,
        PlanReviewed,
        RunFrom,
        RetryRequested,
        ImpactStartedSet,
        ActionItemAdded,
        RolesSet,
        Handoff,
    )
}


_NOT_JOURNALED = frozenset({"at", "ansi"})


class EventDecodeError(ValueError):
    """A journal record is not an event this version knows."""


class UnknownEventKind(EventDecodeError):
    """A record of a kind this version does not know (a newer runbook-tui wrote it).

    New event kinds are additive: a reader skips such a record and counts it among the
    journal's problems; it is not damage. A record of a known kind that does not decode
    is (plain :class:`EventDecodeError`).
    """

    def __init__(self, kind: str) -> None:
        self.event_kind = kind
        super().__init__(f"event kind {kind!r} is not known to this version of runbook-tui")


def to_dict(event: Event) -> dict[str, Any]:
    """The JSON-ready form: ``{"kind": ..., "at": "<ISO UTC>", ...fields}``."""
    data: dict[str, Any] = {"kind": event.kind, "at": iso_utc(event.at)}
    for f in dataclasses.fields(event):
        if f.name not in _NOT_JOURNALED:
            data[f.name] = getattr(event, f.name)
    return data


def from_dict(data: dict[str, Any]) -> Event:
    """Inverse of :func:`to_dict`; a kind this version does not know raises :class:`UnknownEventKind`,
    a known kind with missing or wrong fields :class:`EventDecodeError`."""
    kind = data.get("kind")
    if not isinstance(kind, str) or not kind:
        raise EventDecodeError(f"a record without a kind ({kind!r})")
    cls = EVENT_TYPES.get(kind)
    if cls is None:
        raise UnknownEventKind(kind)
    # "h" is the line's chain hash (core/journal/chain.py), not a field of the event.
    fields = {k: v for k, v in data.items() if k != "kind" and k != "h"}
    try:
        fields["at"] = parse_iso_utc(fields["at"])
        return cls(**fields)
    except (KeyError, TypeError, ValueError) as exc:
        raise EventDecodeError(f"malformed {data['kind']} event: {exc}") from exc
