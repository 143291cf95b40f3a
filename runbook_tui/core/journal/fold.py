"""Session state as a pure fold over events: what the app shows, the report reads and resume rebuilds.

``fold(events)`` and ``apply(state, event)`` are pure: the same events always give
the same :class:`SessionState`, whether they come live from the engine or back
from a journal. Output is counted and only a bounded tail is kept, so a step that
prints a million lines costs the state a few kilobytes.

For the hot path (one event per output line) :class:`StateFolder` applies events
to a private mutable draft and freezes it only when the state is read.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from types import MappingProxyType
from typing import Any, NamedTuple

from .. import events as ev
from ..events import StepStatus

TAIL_LINES = 50
_STEP_ID = attrgetter("step_id")
_SEQ = attrgetter("seq")


_STATUS_VALUES = frozenset(s.value for s in StepStatus)


class TailLine(NamedTuple):
    """One of the last lines a step printed (ANSI stripped, redacted)."""

    seq: int
    stream: str
    text: str
    at: float


@dataclass(frozen=True, slots=True)
class EditRecord:
    """A file edit made by a step, and whether it was undone."""

    path: str
    backup: str
    diff: str
    before_sha256: str
    after_sha256: str
    at: float
    undone: bool = False
    undone_at: float | None = None


@dataclass(frozen=True, slots=True)
class HostResult:
    """The latest result of one host of a fleet step; ``status`` is "running" until it ends."""

    host: str
    batch: int = 1
    status: str = "running"
    started_at: float | None = None
    duration: float | None = None
    rc: int | None = None
    message: str = ""
    attempt: int = 1


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class StepState:
    """Everything known about one step of the session."""

    step_id: str
    title: str = ""
    kind: str = ""
    phase: str = ""
    status: StepStatus = StepStatus.PENDING
    attempts: int = 0
    command: str = ""
    started_at: float | None = None
    finished_at: float | None = None
    duration: float | None = None
    exit_code: int | None = None
    message: str = ""
    skip_reason: str | None = None
    confirmed_by: str | None = None
    declined: bool = False
    done_note: str | None = None  # marked done by the engineer (interrupted or manual)
    notes: tuple[str, ...] = ()
    edits: tuple[EditRecord, ...] = ()
    output_lines: int = 0
    last_seq: int = 0
    tail: tuple[TailLine, ...] = ()
    data: Mapping[str, Any] = field(default_factory=_empty)
    # Edits journalled as planned (write-ahead) with no file_edited or edit_reconciled yet.
    planned_edits: tuple[EditRecord, ...] = ()
    hosts: Mapping[str, HostResult] = field(default_factory=_empty)  # fleet steps: host -> latest result

    @property
    def active_edit(self) -> EditRecord | None:
        """The newest edit that has not been undone."""
        return next((e for e in reversed(self.edits) if not e.undone), None)


@dataclass(frozen=True, slots=True)
class SessionState:
    """The whole session: who, what, when, every step, and how it ended."""

    session_id: str = ""
    runbook_id: str = ""
    runbook_title: str = ""
    runbook_path: str = ""
    runbook_sha256: str = ""
    procedure_id: str = ""
    procedure_title: str = ""
    mode: str = ""
    operator: str = ""
    app_version: str = ""
    workdir: str = ""
    target_seconds: float | None = None
    window_text: str = ""
    impact_started_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    outcome: str | None = None
    finish_message: str = ""
    duration: float | None = None
    params: Mapping[str, str] = field(default_factory=_empty)  # secret values are redacted
    param_sources: Mapping[str, str] = field(default_factory=_empty)
    secret_params: frozenset[str] = frozenset()
    decision: ev.DecisionMade | None = None
    milestones: tuple[ev.MilestoneReached, ...] = ()
    warnings: tuple[ev.WindowWarning, ...] = ()
    breaches: tuple[ev.WindowBreached, ...] = ()
    notes: tuple[ev.NoteAdded, ...] = ()
    steps: Mapping[str, StepState] = field(default_factory=_empty)
    step_order: tuple[str, ...] = ()  # in the order steps first appeared
    checklist: Mapping[str, frozenset[int]] = field(default_factory=_empty)  # ticked item indexes
    templates: Mapping[str, str] = field(default_factory=_empty)
    resumed: int = 0
    torn_resumes: int = 0
    event_count: int = 0
    last_event_at: float | None = None
    # Variables carried from step to step: name -> the variable_carried event that set it last.
    carried: Mapping[str, ev.VariableCarried] = field(default_factory=_empty)
    plans: tuple[ev.PlanReviewed, ...] = ()  # plans shown before the run
    restarts: tuple[ev.RunFrom | ev.RetryRequested, ...] = ()  # run-from and retry choices
    impact_source: str = ""  # how the impact start was given ("command-line", "now", ...); "" when never
    current_operator: str = ""  # who runs it now: the starter, or the last handoff's receiver
    roles: tuple[tuple[str, str], ...] = ()  # (role, name) as last set
    action_items: tuple[ev.ActionItemAdded, ...] = ()

    def step(self, step_id: str) -> StepState:
        """The state of ``step_id``; a pending step when nothing has happened to it yet."""
        return self.steps.get(step_id) or StepState(step_id)

    @property
    def finished(self) -> bool:
        return self.outcome is not None

    def elapsed(self, now: float) -> float:
        """Seconds since the session started (``now`` is epoch seconds)."""
        return 0.0 if self.started_at is None else max(0.0, now - self.started_at)

    def running(self) -> list[str]:
        """Ids of the steps running now (a watch step and a foreground step can overlap)."""
        return [sid for sid in self.step_order if self.steps[sid].status is StepStatus.RUNNING]


# --- the mutable draft used while folding --------------------------------------


class _StepDraft:
    __slots__ = (
        "attempts",
        "command",
        "confirmed_by",
        "data",
        "declined",
        "done_note",
        "duration",
        "edits",
        "exit_code",
        "finished_at",
        "frozen",
        "hosts",
        "kind",
        "last_seq",
        "message",
        "notes",
        "output_lines",
        "phase",
        "planned_edits",
        "skip_reason",
        "started_at",
        "status",
        "step_id",
        "tail",
        "title",
    )

    def __init__(self, s: StepState) -> None:
        self.step_id = s.step_id
        self.title, self.kind, self.phase, self.status = s.title, s.kind, s.phase, s.status
        self.attempts, self.command = s.attempts, s.command
        self.started_at, self.finished_at, self.duration = s.started_at, s.finished_at, s.duration
        self.exit_code, self.message, self.skip_reason = s.exit_code, s.message, s.skip_reason
        self.confirmed_by, self.declined, self.done_note = s.confirmed_by, s.declined, s.done_note
        self.notes = list(s.notes)
        self.edits = list(s.edits)
        self.planned_edits = list(s.planned_edits)
        self.output_lines, self.last_seq = s.output_lines, s.last_seq
        self.tail: deque[TailLine] = deque(s.tail, maxlen=TAIL_LINES)
        self.data = s.data
        self.hosts = dict(s.hosts)
        self.frozen: StepState | None = s

    def freeze(self) -> StepState:
        if self.frozen is None:
            self.frozen = StepState(
                step_id=self.step_id,
                title=self.title,
                kind=self.kind,
                phase=self.phase,
                status=self.status,
                attempts=self.attempts,
                command=self.command,
                started_at=self.started_at,
                finished_at=self.finished_at,
                duration=self.duration,
                exit_code=self.exit_code,
                message=self.message,
                skip_reason=self.skip_reason,
                confirmed_by=self.confirmed_by,
                declined=self.declined,
                done_note=self.done_note,
                notes=tuple(self.notes),
                edits=tuple(self.edits),
                output_lines=self.output_lines,
                last_seq=self.last_seq,
                tail=tuple(self.tail),
                data=self.data,
                planned_edits=tuple(self.planned_edits),
                hosts=MappingProxyType(dict(self.hosts)),
            )
        return self.frozen


_SESSION_STARTED_FIELDS = (
    "session_id",
    "runbook_id",
    "runbook_title",
    "runbook_path",
    "runbook_sha256",
    "procedure_id",
    "procedure_title",
    "mode",
    "operator",
    "app_version",
    "target_seconds",
    "window_text",
    "workdir",
    "impact_started_at",
)


class StateFolder:
    """Applies events one at a time; ``state`` freezes the result (cached until the next event)."""

    def __init__(self, state: SessionState | None = None) -> None:
        base = state or SessionState()
        self._scalars: dict[str, Any] = {
            name: getattr(base, name)
            for name in SessionState.__dataclass_fields__
            if name not in _COLLECTIONS
        }
        self._params = dict(base.params)
        self._sources = dict(base.param_sources)
        self._secret = set(base.secret_params)
        self._milestones = list(base.milestones)
        self._warnings = list(base.warnings)
        self._breaches = list(base.breaches)
        self._notes = list(base.notes)
        self._steps = {sid: _StepDraft(s) for sid, s in base.steps.items()}
        self._order = list(base.step_order)
        self._checklist = {k: set(v) for k, v in base.checklist.items()}
        self._templates = dict(base.templates)
        self._carried = dict(base.carried)
        self._plans = list(base.plans)
        self._restarts = list(base.restarts)
        self._frozen: SessionState | None = base

    @property
    def state(self) -> SessionState:
        """The state after every event applied so far."""
        if self._frozen is None:
            self._frozen = SessionState(
                **self._scalars,
                params=MappingProxyType(dict(self._params)),
                param_sources=MappingProxyType(dict(self._sources)),
                secret_params=frozenset(self._secret),
                milestones=tuple(self._milestones),
                warnings=tuple(self._warnings),
                breaches=tuple(self._breaches),
                notes=tuple(self._notes),
                steps=MappingProxyType({sid: d.freeze() for sid, d in self._steps.items()}),
                step_order=tuple(self._order),
                checklist=MappingProxyType({k: frozenset(v) for k, v in self._checklist.items()}),
                templates=MappingProxyType(dict(self._templates)),
                carried=MappingProxyType(dict(self._carried)),
                plans=tuple(self._plans),
                restarts=tuple(self._restarts),
            )
        return self._frozen

    def apply_all(self, events: Iterable[ev.Event]) -> None:
        for event in events:
            self.apply(event)

    def apply(self, event: ev.Event) -> None:
        """Apply one event to the draft."""
        self._frozen = None
        self._scalars["event_count"] += 1
        self._scalars["last_event_at"] = event.at
        if type(event) is ev.OutputLine:  # the hot path
            draft = self._step(event.step_id)
            draft.frozen = None
            draft.output_lines += 1
            draft.last_seq = max(draft.last_seq, event.seq)
            draft.tail.append(TailLine(event.seq, event.stream, event.text, event.at))
            return
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            handler(self, event)

    def apply_output(self, events: Sequence[ev.OutputLine]) -> None:
        """Apply output lines of one step in a row: the same as ``apply`` on each, in one step.

        Only the last ``TAIL_LINES`` of them can stay in the tail, so only those are built.
        """
        if not events:
            return
        step_id = events[0].step_id
        if not all(map(step_id.__eq__, map(_STEP_ID, events))):  # C speed, no genexpr
            self.apply_all(events)
            return
        tail = [TailLine(e.seq, e.stream, e.text, e.at) for e in events[-TAIL_LINES:]]
        self.apply_output_run(step_id, len(events), max(map(_SEQ, events)), tail)

    def apply_output_run(self, step_id: str, count: int, last_seq: int, tail: Sequence[TailLine]) -> None:
        """``count`` output lines of one step in a row, of which only the last ones are given.

        The same state as ``apply`` on every line, for a reader that never built most of
        them (resume folding a journal as it streams it): ``last_seq`` is their highest
        ``seq`` and ``tail`` their last lines in order, at least one and up to ``TAIL_LINES``.
        """
        if count <= 0 or not tail:
            raise ValueError("an output run needs at least one line, and its last line")
        self._frozen = None
        scalars = self._scalars
        scalars["event_count"] += count
        scalars["last_event_at"] = tail[-1].at
        draft = self._step(step_id)
        draft.frozen = None
        draft.output_lines += count
        draft.last_seq = max(draft.last_seq, last_seq)
        draft.tail.extend(tail[-TAIL_LINES:])

    def _step(self, step_id: str) -> _StepDraft:
        draft = self._steps.get(step_id)
        if draft is None:
            draft = self._steps[step_id] = _StepDraft(StepState(step_id))
            self._order.append(step_id)
        return draft

    def _touch(self, step_id: str) -> _StepDraft:
        draft = self._step(step_id)
        draft.frozen = None
        return draft

    # --- one handler per event kind ---------------------------------------------

    def _session_started(self, e: ev.SessionStarted) -> None:
        for name in _SESSION_STARTED_FIELDS:
            self._scalars[name] = getattr(e, name)
        self._scalars["started_at"] = e.at
        self._scalars["current_operator"] = e.operator
        if e.impact_started_at is not None:
            self._scalars["impact_source"] = "given at start"

    def _session_resumed(self, e: ev.SessionResumed) -> None:
        self._scalars["resumed"] += 1
        if e.torn_tail:
            self._scalars["torn_resumes"] += 1
        self._scalars["outcome"] = None
        self._scalars["finished_at"] = None

    def _session_finished(self, e: ev.SessionFinished) -> None:
        self._scalars.update(
            outcome=e.outcome, finished_at=e.at, duration=e.duration, finish_message=e.message
        )

    def _parameter_set(self, e: ev.ParameterSet) -> None:
        self._params[e.name] = e.value
        self._sources[e.name] = e.source
        if e.secret:
            self._secret.add(e.name)
        else:
            self._secret.discard(e.name)

    def _decision_made(self, e: ev.DecisionMade) -> None:
        self._scalars["decision"] = e

    def _step_started(self, e: ev.StepStarted) -> None:
        d = self._touch(e.step_id)
        d.title, d.kind, d.phase, d.command = e.title, e.step_kind, e.phase, e.command
        d.status = StepStatus.RUNNING
        d.attempts = max(d.attempts, e.attempt)
        d.started_at, d.finished_at, d.duration, d.exit_code = e.at, None, None, None
        d.message, d.declined = "", False

    def _step_finished(self, e: ev.StepFinished) -> None:
        d = self._touch(e.step_id)
        # A status this version does not know (a newer one wrote it) is not claimed as anything.
        d.status = StepStatus(e.status) if e.status in _STATUS_VALUES else StepStatus.UNKNOWN
        d.finished_at, d.duration, d.exit_code, d.message = e.at, e.duration, e.exit_code, e.message
        d.attempts = max(d.attempts, e.attempt)
        d.data = MappingProxyType(dict(e.data))

    def _step_skipped(self, e: ev.StepSkipped) -> None:
        d = self._touch(e.step_id)
        d.status, d.skip_reason, d.finished_at = StepStatus.SKIPPED, e.reason, e.at

    def _step_interrupted(self, e: ev.StepInterrupted) -> None:
        d = self._touch(e.step_id)
        d.status = StepStatus.INTERRUPTED
        d.finished_at = e.at
        if d.started_at is not None:
            d.duration = e.at - d.started_at
        d.message = "interrupted: the session ended while this step ran"

    def _step_marked_done(self, e: ev.StepMarkedDone) -> None:
        d = self._touch(e.step_id)
        d.status, d.done_note, d.finished_at = StepStatus.PASSED, e.note, e.at
        d.message = f"marked done: {e.note}" if e.note else "marked done"

    def _confirmation_given(self, e: ev.ConfirmationGiven) -> None:
        d = self._touch(e.step_id)
        d.confirmed_by, d.declined = e.by, False

    def _confirmation_declined(self, e: ev.ConfirmationDeclined) -> None:
        d = self._touch(e.step_id)
        d.declined, d.status = True, StepStatus.NEEDS_YOU

    def _file_edited(self, e: ev.FileEdited) -> None:
        d = self._touch(e.step_id)
        d.edits.append(EditRecord(e.path, e.backup, e.diff, e.before_sha256, e.after_sha256, e.at))
        d.planned_edits = [p for p in d.planned_edits if p.path != e.path]

    def _edit_planned(self, e: ev.EditPlanned) -> None:
        d = self._touch(e.step_id)
        d.planned_edits.append(EditRecord(e.path, e.backup, e.diff, e.before_sha256, e.after_sha256, e.at))

    def _edit_reconciled(self, e: ev.EditReconciled) -> None:
        d = self._touch(e.step_id)
        d.planned_edits = [p for p in d.planned_edits if p.path != e.path]

    def _edit_undone(self, e: ev.EditUndone) -> None:
        d = self._touch(e.step_id)
        for i in range(len(d.edits) - 1, -1, -1):
            edit = d.edits[i]
            if edit.path == e.path and not edit.undone:
                d.edits[i] = EditRecord(
                    edit.path,
                    edit.backup,
                    edit.diff,
                    edit.before_sha256,
                    edit.after_sha256,
                    edit.at,
                    True,
                    e.at,
                )
                break

    def _note_added(self, e: ev.NoteAdded) -> None:
        self._notes.append(e)
        if e.step_id is not None:
            self._touch(e.step_id).notes.append(e.text)

    def _milestone(self, e: ev.MilestoneReached) -> None:
        self._milestones.append(e)

    def _window_warning(self, e: ev.WindowWarning) -> None:
        self._warnings.append(e)

    def _window_breached(self, e: ev.WindowBreached) -> None:
        self._breaches.append(e)

    def _template_filled(self, e: ev.TemplateFilled) -> None:
        self._templates[e.template_id] = e.text

    def _host_started(self, e: ev.HostStarted) -> None:
        # A retry runs only some hosts again: the others keep their earlier result.
        draft = self._touch(e.step_id)
        draft.hosts[e.host] = HostResult(e.host, e.batch, "running", e.at, attempt=max(draft.attempts, 1))

    def _host_finished(self, e: ev.HostFinished) -> None:
        draft = self._touch(e.step_id)
        before = draft.hosts.get(e.host)
        draft.hosts[e.host] = HostResult(
            e.host,
            e.batch,
            e.status,
            before.started_at if before else None,
            e.duration,
            e.rc,
            e.message,
            max(draft.attempts, 1),
        )

    def _checklist_ticked(self, e: ev.ChecklistTicked) -> None:
        ticks = self._checklist.setdefault(e.checklist_id, set())
        if e.done:
            ticks.add(e.item)
        else:
            ticks.discard(e.item)

    def _variable_carried(self, e: ev.VariableCarried) -> None:
        self._carried[e.name] = e

    def _plan_reviewed(self, e: ev.PlanReviewed) -> None:
        self._plans.append(e)

    def _run_from(self, e: ev.RunFrom) -> None:
        self._restarts.append(e)
        for step_id in e.skipped:
            d = self._touch(step_id)
            d.status, d.finished_at = StepStatus.SKIPPED, e.at
            d.skip_reason = f"skipped over: {e.by} chose to run from {e.step_id}"
        for step_id in e.rerun:
            d = self._touch(step_id)
            d.status, d.message = StepStatus.PENDING, f"to run again: {e.by} chose to run from {e.step_id}"

    def _retry_requested(self, e: ev.RetryRequested) -> None:
        self._restarts.append(e)

    # Issue 17 (evidence): impact start, roles, handoffs, action items.

    def _impact_started_set(self, e: ev.ImpactStartedSet) -> None:
        self._scalars.update(impact_started_at=e.impact_started_at, impact_source=e.source)

    def _roles_set(self, e: ev.RolesSet) -> None:
        self._scalars["roles"] = tuple(sorted((str(k), str(v)) for k, v in e.roles.items()))

    def _handoff(self, e: ev.Handoff) -> None:
        self._scalars["current_operator"] = e.to_operator

    def _action_item(self, e: ev.ActionItemAdded) -> None:
        self._scalars["action_items"] = (*self._scalars["action_items"], e)


_COLLECTIONS = frozenset(
    {
        "params",
        "param_sources",
        "secret_params",
        "milestones",
        "warnings",
        "breaches",
        "notes",
        "steps",
        "step_order",
        "checklist",
        "templates",
        "carried",
        "plans",
        "restarts",
    }
)

_HANDLERS: dict[type[ev.Event], Any] = {
    ev.SessionStarted: StateFolder._session_started,
    ev.SessionResumed: StateFolder._session_resumed,
    ev.SessionFinished: StateFolder._session_finished,
    ev.ParameterSet: StateFolder._parameter_set,
    ev.DecisionMade: StateFolder._decision_made,
    ev.StepStarted: StateFolder._step_started,
    ev.StepFinished: StateFolder._step_finished,
    ev.StepSkipped: StateFolder._step_skipped,
    ev.StepInterrupted: StateFolder._step_interrupted,
    ev.StepMarkedDone: StateFolder._step_marked_done,
    ev.ConfirmationGiven: StateFolder._confirmation_given,
    ev.ConfirmationDeclined: StateFolder._confirmation_declined,
    ev.FileEdited: StateFolder._file_edited,
    ev.EditUndone: StateFolder._edit_undone,
    ev.NoteAdded: StateFolder._note_added,
    ev.MilestoneReached: StateFolder._milestone,
    ev.WindowWarning: StateFolder._window_warning,
    ev.WindowBreached: StateFolder._window_breached,
    ev.TemplateFilled: StateFolder._template_filled,
    ev.ChecklistTicked: StateFolder._checklist_ticked,
    ev.EditPlanned: StateFolder._edit_planned,
    ev.EditReconciled: StateFolder._edit_reconciled,
    ev.HostStarted: StateFolder._host_started,
    ev.HostFinished: StateFolder._host_finished,
    ev.VariableCarried: StateFolder._variable_carried,
    ev.PlanReviewed: StateFolder._plan_reviewed,
    ev.RunFrom: StateFolder._run_from,
    ev.RetryRequested: StateFolder._retry_requested,
    ev.ImpactStartedSet: StateFolder._impact_started_set,
    ev.RolesSet: StateFolder._roles_set,
    ev.Handoff: StateFolder._handoff,
    ev.ActionItemAdded: StateFolder._action_item,
}


def apply(state: SessionState, event: ev.Event) -> SessionState:
    """The state after ``event``; ``state`` itself is unchanged."""
    folder = StateFolder(state)
    folder.apply(event)
    return folder.state


def fold(events: Iterable[ev.Event], initial: SessionState | None = None) -> SessionState:
    """The state after every event, in order."""
    folder = StateFolder(initial)
    folder.apply_all(events)
    return folder.state
