"""The post-incident record of a session, computed from its journal alone.

One streaming pass over the journal builds everything the report formats need:
the timeline (oldest first, UTC and time since start), each step attempt with its
duration and the tail of its output, skips, edits, notes, templates, checklist
ticks and the time metrics. Output lines are never kept beyond a short tail per
attempt, so a session with millions of lines reports in bounded memory.

Wording is blameless and in the past tense: what happened, not who broke it.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from .. import events as ev
from ..durations import format_seconds
from ..journal.codec import output_step_id
from ..journal.records import StreamStatus, iter_lines, parse_line, parse_record

TAIL_LINES = 20
MILESTONES = ("detected", "acknowledged", "mitigated", "resolved")
CHECK_PHASES = frozenset({"precheck", "verification"})


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
class Breach:
    scope: str  # "procedure" or a decision row id
    elapsed: float
    target: float
    at: float


@dataclass(frozen=True, slots=True)
class Metrics:
    """Time metrics, measured from the start of impact."""

    impact_started_at: float | None
    impact_source: str  # "recorded" or "session start"
    time_to: dict[str, float | None]  # milestone -> seconds since impact (first time reached)
    duration: float | None  # session start to finish (or to the last event while unfinished)
    target_seconds: float | None
    window_text: str
    time_to_recover: float | None
    within_target: bool | None
    over_by: float | None
    breaches: tuple[Breach, ...]
    warnings: tuple[Breach, ...]


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


def build_report(path: Path) -> Report:
    """Stream the journal at ``path`` once and compute its report."""
    status = StreamStatus()
    builder = _Builder()
    builder.feed_lines(iter_lines(path, status))
    report = builder.finish(str(path), status)
    return dataclasses.replace(report, chain=chain_summary(path, report.header))


def chain_summary(path: Path, header: dict[str, Any]) -> dict[str, Any]:
    """The journal's head hash and key fingerprint (read from its ends; ``verify`` checks the rest)."""
    from ..journal import chain as journal_chain

    if not journal_chain.is_chained(header):
        return {"status": "unchained", "head": None, "lines": None, "key_fingerprint": None, "message": None}
    try:
        last = journal_chain.last_line(path)
    except OSError:
        last = None
    parts = journal_chain.split(last) if last else None
    head = parts[2].decode() if parts is not None else None
    return {
        "status": "chained",
        "head": head,
        "lines": None,
        "key_fingerprint": str(header["chain"].get("key", "")),
        "message": f"runbook-tui verify {header.get('session_id', path.stem)} checks every line against it",
    }


def build_report_from(records: Iterable[dict[str, Any]], status: StreamStatus | None = None) -> Report:
    """The report of already-read journal records (event dicts as ``events.to_dict`` makes them)."""
    builder = _Builder()
    builder.feed(records)
    return builder.finish("", status or StreamStatus())


# --- the single pass -------------------------------------------------------


@dataclass(slots=True)
class _Open:
    """An attempt being built while its output streams past."""

    started: ev.StepStarted
    finished: ev.StepFinished | None = None
    interrupted: bool = False
    done_note: str = ""
    lines: int = 0
    # The last lines: raw journal lines (fast path) or (text, ISO time); parsed once at the end.
    tail: deque[bytes | tuple[str, str]] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))

    def tail_lines(self) -> tuple[tuple[str, ...], float | None]:
        """The tail's texts, and when the last of them was printed."""
        texts: list[str] = []
        last_at = ""
        for item in self.tail:
            if isinstance(item, bytes):
                value = parse_line(item) or {}
                text, at = value.get("text", ""), value.get("at", "")
                item = (str(text), at if isinstance(at, str) else "")
            texts.append(item[0])
            last_at = item[1] or last_at
        return tuple(texts), _parse_at(last_at)


class _Builder:
    def __init__(self) -> None:
        self.started: ev.SessionStarted | None = None
        self.finished: ev.SessionFinished | None = None
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.rows: list[tuple[float, int, str, str, str, str | None, str]] = []
        self.attempts: list[_Open] = []
        self.current: dict[str, _Open] = {}  # step id -> its latest attempt
        self.current_raw: dict[bytes, _Open] = {}  # the same, keyed by the id's UTF-8 bytes
        self.titles: dict[str, str] = {}
        self.roles: dict[str, str] = {}
        self.skips: list[Skip] = []
        self.edits: list[Edit] = []
        self.notes: list[Note] = []
        self.params: list[Parameter] = []
        self.decisions: list[Decision] = []
        self.confirmations: list[Confirmation] = []
        self.templates: dict[str, FilledTemplate] = {}
        self.ticks: dict[tuple[str, int], Tick] = {}
        self.milestones: dict[str, float] = {}
        self.breaches: list[Breach] = []
        self.warnings: list[Breach] = []
        self.problems: list[str] = []
        self.output_lines = 0
        self.fleet_rows: dict[str, dict[str, HostRow]] = {}  # step id -> host -> latest row
        self.fleet_matched: dict[str, tuple[str, list[str]]] = {}  # step id -> (pattern, hosts)
        self.plans: list[ev.PlanReviewed] = []
        self.impact_set: ev.ImpactStartedSet | None = None
        self.action_items: list[ActionItem] = []
        self.handoffs: list[HandoffRow] = []
        self.session_roles: dict[str, str] = {}
        self.milestone_order: list[str] = []  # first time reached, in journal order

    def feed(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            if record.get("kind") == "output":
                self._output(record)
            else:
                self._record(record)

    def feed_lines(self, lines: Iterable[tuple[int, bytes]]) -> None:
        """Raw journal lines; output lines take a fast path that does not parse them.

        Output is the hot path (a million lines): the journal writes an output
        line's fields in a fixed order, so the step id is sliced out and the line
        kept raw; only the lines left in a tail are ever parsed.
        """
        fast = 0
        by_raw_id = self.current_raw
        for number, raw in lines:
            step_id = output_step_id(raw)
            if step_id is not None:
                fast += 1
                open_ = by_raw_id.get(step_id)
                if open_ is not None:
                    open_.lines += 1
                    open_.tail.append(raw)
                continue
            record = parse_record(raw, number, self.problems)
            if record is None:
                continue
            if record.get("kind") == "output":
                self._output(record)
            else:
                self._record(record)
        self.output_lines += fast

    def _record(self, record: dict[str, Any]) -> None:
        try:
            event = ev.from_dict(record)
        except ev.UnknownEventKind as exc:  # additive kinds: skipped and counted, never fatal
            self.problems.append(f"{exc} (written by a newer version); skipped")
            return
        except ev.EventDecodeError as exc:
            self.problems.append(f"an event could not be read and was left out: {exc}")
            return
        self._event(event)

    def _output(self, record: dict[str, Any]) -> None:
        self.output_lines += 1
        step_id = record.get("step_id")
        open_ = self.current.get(step_id) if isinstance(step_id, str) else None
        if open_ is not None:
            open_.lines += 1
            text, at = record.get("text", ""), record.get("at", "")
            open_.tail.append((str(text), at if isinstance(at, str) else ""))

    def _row(self, event: ev.Event, category: str, text: str, step_id: str | None = None) -> None:
        role = self.roles.get(step_id, "") if step_id else ""
        self.rows.append((event.at, len(self.rows), event.kind, category, text, step_id, role))

    def _title(self, step_id: str) -> str:
        return self.titles.get(step_id, step_id)

    def _event(self, event: ev.Event) -> None:
        if self.first_at is None:
            self.first_at = event.at
        self.last_at = event.at if self.last_at is None else max(self.last_at, event.at)
        handler = getattr(self, f"_on_{event.kind}", None)
        if handler is not None:
            handler(event)

    def _on_session_started(self, e: ev.SessionStarted) -> None:
        if self.started is None:
            self.started = e
        runbook = e.runbook_title or e.runbook_id
        self._row(
            e,
            "session",
            f"The {e.mode} session of “{e.procedure_title or e.procedure_id}” ({runbook}) "
            f"started, run by {e.operator or 'an unrecorded operator'}.",
        )

    def _on_decision_made(self, e: ev.DecisionMade) -> None:
        self.decisions.append(Decision(e.row_id, e.issue, e.procedure_id, e.deadline_seconds, e.by, e.at))
        how = "the live signal" if e.by == "signal" else "the engineer"
        then = f", which called for procedure {e.procedure_id}" if e.procedure_id else ""
        deadline = f"; its deadline was {format_seconds(e.deadline_seconds)}" if e.deadline_seconds else ""
        self._row(e, "decision", f"Triage matched “{e.issue}” (row {e.row_id}) by {how}{then}{deadline}.")

    def _on_parameter_set(self, e: ev.ParameterSet) -> None:
        self.params.append(Parameter(e.name, e.value, e.secret, e.source, e.at))
        shown = "a secret value (redacted)" if e.secret else f"`{e.value}`"
        self._row(e, "parameter", f"Parameter {e.name} was set to {shown} from the {e.source}.")

    def _on_step_started(self, e: ev.StepStarted) -> None:
        self.titles[e.step_id] = e.title
        role = e.role
        if role:
            self.roles[e.step_id] = role
        open_ = _Open(e)
        self.attempts.append(open_)
        self.current[e.step_id] = open_
        self.current_raw[e.step_id.encode("utf-8")] = open_
        noun = _noun(e.phase, e.title)
        again = f" (attempt {e.attempt})" if e.attempt > 1 else ""
        command = f": {_one_line(e.command)}" if e.command else "."
        self._row(e, _category(e.phase), f"{noun} started{again}{command}", e.step_id)

    def _on_step_finished(self, e: ev.StepFinished) -> None:
        open_ = self.current.get(e.step_id)
        if open_ is not None and open_.finished is None:
            open_.finished = e
        hosts = e.data.get("hosts") if isinstance(e.data, dict) else None
        if isinstance(hosts, list):
            self.fleet_matched[e.step_id] = (str(e.data.get("pattern", "")), [str(h) for h in hosts])
        phase = open_.started.phase if open_ else "step"
        noun = _noun(phase, self._title(e.step_id))
        self._row(e, _category(phase), _finished_text(noun, e), e.step_id)

    def _on_host_started(self, e: ev.HostStarted) -> None:
        attempt = self.current[e.step_id].started.attempt if e.step_id in self.current else None
        rows = self.fleet_rows.setdefault(e.step_id, {})
        rows[e.host] = HostRow(e.host, "running", e.batch, attempt=attempt)

    def _on_host_finished(self, e: ev.HostFinished) -> None:
        attempt = self.current[e.step_id].started.attempt if e.step_id in self.current else None
        rows = self.fleet_rows.setdefault(e.step_id, {})
        rows[e.host] = HostRow(e.host, e.status, e.batch, e.duration, e.rc, e.message, attempt)
        if e.status != "ok":
            detail = f" (rc {e.rc})" if e.rc is not None else ""
            self._row(
                e, "step", f"Host {e.host} {e.status}{detail} in “{self._title(e.step_id)}”.", e.step_id
            )

    def _fleet(self) -> tuple[FleetStep, ...]:
        out: list[FleetStep] = []
        for step_id in dict.fromkeys([*self.fleet_matched, *self.fleet_rows]):
            pattern, matched = self.fleet_matched.get(step_id, ("", []))
            rows = self.fleet_rows.get(step_id, {})
            names = list(dict.fromkeys([*matched, *rows]))
            hosts = tuple(rows.get(h) or HostRow(h, "not run") for h in names)
            out.append(FleetStep(step_id, self._title(step_id), pattern, hosts))
        return tuple(out)

    def _on_step_skipped(self, e: ev.StepSkipped) -> None:
        self.skips.append(Skip(e.step_id, self._title(e.step_id), e.reason, e.at))
        self._row(e, "skip", f"Step “{self._title(e.step_id)}” was skipped: {e.reason}", e.step_id)

    def _on_variable_carried(self, e: ev.VariableCarried) -> None:
        shown = "a secret value (redacted)" if e.redacted else e.value
        self._row(e, "variable", f"{e.name} set to {shown} by step {e.step_id}", e.step_id)

    def _on_plan(self, e: ev.PlanReviewed) -> None:
        self.plans.append(e)
        gaps = f"; {len(e.unplanned)} thing(s) could not be planned" if e.unplanned else ""
        self._row(
            e, "plan", f"The plan ({len(e.lines)} lines) was reviewed by {e.by or 'the engineer'}{gaps}."
        )

    def _on_run_from(self, e: ev.RunFrom) -> None:
        skipped = f"; skipped over {', '.join(e.skipped)}" if e.skipped else ""
        again = f"; to run again: {', '.join(e.rerun)}" if e.rerun else ""
        self._row(e, "restart", f"{e.by} chose to run from {e.step_id}{skipped}{again}.", e.step_id)
        for step_id in e.skipped:
            reason = f"skipped over: {e.by} chose to run from {e.step_id}"
            self.skips.append(Skip(step_id, self._title(step_id), reason, e.at))

    def _on_retry_requested(self, e: ev.RetryRequested) -> None:
        self._row(e, "restart", f"{e.by} retried {e.step_id} (attempt {e.attempt}) alone.", e.step_id)

    def _on_step_interrupted(self, e: ev.StepInterrupted) -> None:
        open_ = self.current.get(e.step_id)
        if open_ is not None and open_.finished is None:
            open_.interrupted = True
        self._row(
            e,
            "step",
            f"Step “{self._title(e.step_id)}” (attempt {e.attempt}) was found interrupted: "
            "the session had stopped while it ran.",
            e.step_id,
        )

    def _on_step_marked_done(self, e: ev.StepMarkedDone) -> None:
        open_ = self.current.get(e.step_id)
        if open_ is not None:
            open_.done_note = e.note
        self._row(e, "step", f"Step “{self._title(e.step_id)}” was marked done by hand: {e.note}", e.step_id)

    def _on_confirmation_given(self, e: ev.ConfirmationGiven) -> None:
        self.confirmations.append(Confirmation(e.step_id, e.message, True, e.by, e.at))
        how = " with --yes" if e.by == "--yes" else ""
        self._row(
            e,
            "confirmation",
            f"The gate before “{self._title(e.step_id)}” was confirmed{how}: {e.message}",
            e.step_id,
        )

    def _on_confirmation_declined(self, e: ev.ConfirmationDeclined) -> None:
        self.confirmations.append(Confirmation(e.step_id, e.message, False, "engineer", e.at))
        self._row(
            e,
            "confirmation",
            f"The gate before “{self._title(e.step_id)}” was declined: {e.message}",
            e.step_id,
        )

    def _on_file_edited(self, e: ev.FileEdited) -> None:
        self.edits.append(Edit(e.step_id, e.path, e.diff, e.before_sha256, e.after_sha256, e.at))
        self._row(e, "edit", f"{e.path} was edited by step “{self._title(e.step_id)}”.", e.step_id)

    def _on_edit_undone(self, e: ev.EditUndone) -> None:
        for index in range(len(self.edits) - 1, -1, -1):
            edit = self.edits[index]
            if edit.step_id == e.step_id and edit.path == e.path and edit.undone_at is None:
                self.edits[index] = Edit(
                    edit.step_id, edit.path, edit.diff, edit.before_sha256, edit.after_sha256, edit.at, e.at
                )
                break
        self._row(
            e, "edit", f"The edit of {e.path} by step “{self._title(e.step_id)}” was undone.", e.step_id
        )

    def _on_note_added(self, e: ev.NoteAdded) -> None:
        self.notes.append(Note(e.text, e.at, e.step_id, e.author))
        where = f" on “{self._title(e.step_id)}”" if e.step_id else ""
        who = f" by {e.author}" if e.author else ""
        self._row(e, "note", f"A note was added{where}{who}: {e.text}", e.step_id)

    def _on_milestone(self, e: ev.MilestoneReached) -> None:
        if e.milestone not in self.milestones:
            self.milestone_order.append(e.milestone)
        self.milestones.setdefault(e.milestone, e.at)
        by = f" (step “{self._title(e.step_id)}”)" if e.step_id else ""
        self._row(e, "milestone", f"The incident was marked {e.milestone}{by}.", e.step_id)

    def _on_window_warning(self, e: ev.WindowWarning) -> None:
        self.warnings.append(Breach(e.scope, e.elapsed, e.target, e.at))
        self._row(
            e,
            "window",
            f"{format_seconds(e.elapsed)} of the {_scope(e.scope)} of {format_seconds(e.target)} had passed.",
        )

    def _on_window_breached(self, e: ev.WindowBreached) -> None:
        self.breaches.append(Breach(e.scope, e.elapsed, e.target, e.at))
        self._row(
            e,
            "window",
            f"The {_scope(e.scope)} of {format_seconds(e.target)} was exceeded "
            f"({format_seconds(e.elapsed)} had passed).",
        )

    def _on_template_filled(self, e: ev.TemplateFilled) -> None:
        self.templates[e.template_id] = FilledTemplate(e.template_id, e.text, e.at)
        self._row(e, "template", f"The communication template {e.template_id} was filled in.")

    def _on_checklist_ticked(self, e: ev.ChecklistTicked) -> None:
        self.ticks[(e.checklist_id, e.item)] = Tick(e.checklist_id, e.item, e.done, e.at)
        state = "ticked" if e.done else "unticked"
        self._row(e, "checklist", f"Item {e.item + 1} of checklist {e.checklist_id} was {state}.")

    def _on_session_resumed(self, e: ev.SessionResumed) -> None:
        torn = "; the journal's torn last line had been dropped" if e.torn_tail else ""
        self._row(e, "resume", f"The session was resumed by {e.operator or 'an operator'}{torn}.")

    def _on_session_finished(self, e: ev.SessionFinished) -> None:
        self.finished = e
        why = f": {e.message}" if e.message else ""
        self._row(e, "session", f"The session finished ({e.outcome}) after {format_seconds(e.duration)}{why}")

    # Category "integrity", not "resume": the resume rows are the resumes the report counts.
    def _on_lock_taken_over(self, e: ev.LockTakenOver) -> None:
        who = f"session {e.previous_session_id or '?'} of {e.previous_operator or '?'}"
        where = f"pid {e.previous_pid} on {e.previous_host or '?'}"
        text = f"The lock of {e.workdir} was taken over from {who} ({where}), whose process was gone."
        self._row(e, "integrity", text)

    def _on_damaged_line_accepted(self, e: ev.DamagedLineAccepted) -> None:
        step = f" (step {e.step_id})" if e.step_id else ""
        by = e.operator or "An operator"
        text = f"{by} resumed past damaged journal line {e.line}{step}, which could not be read."
        self._row(e, "integrity", text)

    def _on_impact_started_set(self, e: ev.ImpactStartedSet) -> None:
        self.impact_set = e  # the last correction wins
        who = f" by {e.by}" if e.by else ""
        self._row(
            e,
            "impact",
            f"The start of impact was recorded{who} as {ev.iso_utc(e.impact_started_at)[:19]}Z ({e.source}).",
        )

    def _on_action_item(self, e: ev.ActionItemAdded) -> None:
        self.action_items.append(ActionItem(e.text, e.owner, e.due, e.author, e.at, e.step_id))
        due = f", due {e.due}" if e.due else ""
        self._row(e, "action", f"Action item for {e.owner}{due}: {e.text}", e.step_id)

    def _on_roles_set(self, e: ev.RolesSet) -> None:
        from ..evidence import ROLE_TITLES

        self.session_roles = {str(k): str(v) for k, v in e.roles.items()}
        said = ", ".join(f"{ROLE_TITLES.get(k, k)}: {v}" for k, v in sorted(self.session_roles.items()))
        self._row(e, "roles", f"Roles were set: {said}.")

    def _on_handoff(self, e: ev.Handoff) -> None:
        running = tuple(str(s) for s in e.running)
        self.handoffs.append(HandoffRow(e.from_operator, e.to_operator, e.reason, running, e.at))
        self._row(e, "handoff", handoff_sentence(self.handoffs[-1], self._title))

    # --- freezing ------------------------------------------------------------

    def finish(self, path: str, status: StreamStatus) -> Report:
        s = self.started
        start = s.at if s else self.first_at
        rows = tuple(
            Row(at, at - start if start is not None else 0.0, kind, cat, text, step_id, role)
            for at, _n, kind, cat, text, step_id, role in sorted(self.rows, key=lambda r: (r[0], r[1]))
        )
        finished = self.finished
        outcome = finished.outcome if finished else "unfinished"
        problems = list(status.problems) + self.problems
        if status.torn_tail:
            problems.append(
                "the journal's last line was torn (the session stopped mid-write); it was left out"
            )
        if s is None:
            problems.append("the journal has no session_started event; session details are unknown")
        return Report(
            path=path,
            header=dict(status.header),
            session_id=s.session_id if s else str(status.header.get("session_id", "")),
            runbook_id=s.runbook_id if s else "",
            runbook_title=s.runbook_title if s else "",
            runbook_path=s.runbook_path if s else "",
            runbook_sha256=s.runbook_sha256 if s else "",
            app_version=s.app_version if s else str(status.header.get("version", "")),
            procedure_id=s.procedure_id if s else "",
            procedure_title=s.procedure_title if s else "",
            mode=s.mode if s else "",
            operator=s.operator if s else "",
            workdir=s.workdir if s else "",
            started_at=start,
            finished_at=finished.at if finished else None,
            outcome=outcome,
            finish_message=finished.message if finished else "",
            metrics=self._metrics(start),
            timeline=rows,
            attempts=tuple(self._attempt(o) for o in self.attempts),
            skips=tuple(self.skips),
            edits=tuple(self.edits),
            notes=tuple(self.notes),
            parameters=tuple(self.params),
            decisions=tuple(self.decisions),
            confirmations=tuple(self.confirmations),
            templates=tuple(sorted(self.templates.values(), key=lambda t: t.at)),
            ticks=tuple(sorted(self.ticks.values(), key=lambda t: (t.checklist_id, t.item))),
            resumes=tuple(r for r in rows if r.category == "resume"),
            torn_tail=status.torn_tail,
            problems=tuple(problems),
            output_lines=self.output_lines,
            fleet=self._fleet(),
            plans=tuple(self.plans),
            action_items=tuple(self.action_items),
            handoffs=tuple(self.handoffs),
            roles=tuple(sorted(self.session_roles.items())),
            milestone_problems=self._milestone_problems(start),
        )

    def _milestone_problems(self, start: float | None) -> tuple[str, ...]:
        """Milestones reached out of order (or before impact started): said, not reordered."""
        said: list[str] = []
        reached = [(m, self.milestones[m]) for m in MILESTONES if m in self.milestones]
        for (a, at_a), (b, at_b) in pairwise(reached):
            if at_b < at_a:
                said.append(
                    f"{b} ({ev.iso_utc(at_b)[:19]}Z) was reached before {a} ({ev.iso_utc(at_a)[:19]}Z)"
                )
        impact = self.impact_set.impact_started_at if self.impact_set else None
        if impact is None and self.started is not None:
            impact = self.started.impact_started_at
        if impact is not None:
            for m, at in reached:
                if at < impact:
                    said.append(f"{m} ({ev.iso_utc(at)[:19]}Z) is before the recorded start of impact")
        return tuple(said)

    def _attempt(self, o: _Open) -> Attempt:
        st, fin = o.started, o.finished
        tail, last_output_at = o.tail_lines()
        if fin is not None:
            state, duration, finished_at = fin.status, fin.duration, fin.at
        else:
            # Never finished: the session died under it (resume writes step_interrupted).
            state, duration, finished_at = (
                "interrupted" if o.interrupted or self.finished else "running",
                None,
                None,
            )
        return Attempt(
            step_id=st.step_id,
            title=st.title,
            step_kind=st.step_kind,
            phase=st.phase,
            attempt=st.attempt,
            command=st.command,
            role=st.role,
            started_at=st.at,
            finished_at=finished_at,
            status=state,
            duration=duration,
            message=fin.message if fin else "",
            exit_code=fin.exit_code if fin else None,
            output_lines=o.lines,
            output_tail=tail,
            done_note=o.done_note,
            last_output_at=last_output_at,
        )

    def _metrics(self, start: float | None) -> Metrics:
        s, fin = self.started, self.finished
        recorded = s.impact_started_at if s else None
        if self.impact_set is not None:
            recorded = self.impact_set.impact_started_at  # given or corrected later: the last word
        impact = recorded if recorded is not None else start
        time_to = {
            m: (self.milestones[m] - impact if m in self.milestones and impact is not None else None)
            for m in MILESTONES
        }
        if fin is not None:
            duration: float | None = fin.duration
        elif start is not None and self.last_at is not None:
            duration = self.last_at - start
        else:
            duration = None
        recover = time_to["resolved"]
        if recover is None and fin is not None and fin.outcome == "succeeded" and impact is not None:
            recover = fin.at - impact
        target = s.target_seconds if s else None
        within = over = None
        if target is not None and duration is not None:
            within = duration <= target and not any(b.scope == "procedure" for b in self.breaches)
            over = max(0.0, duration - target)
        return Metrics(
            impact_started_at=impact,
            impact_source="recorded" if recorded is not None else "session start",
            time_to=time_to,
            duration=duration,
            target_seconds=target,
            window_text=s.window_text if s else "",
            time_to_recover=recover,
            within_target=within,
            over_by=over,
            breaches=tuple(self.breaches),
            warnings=tuple(self.warnings),
        )


def handoff_sentence(h: HandoffRow, title: Any = None) -> str:
    """ "alice handed over to bob at 03:12 UTC, step 4 running" (or "... on resume")."""
    from ..evidence import format_clock

    names = [title(s) if title else s for s in h.running]
    running = f", {', '.join(names)} running" if names else ", nothing running"
    how = " (on resume)" if h.reason == "resume" else ""
    who = h.from_operator or "an operator"
    return f"{who} handed over to {h.to_operator} at {format_clock(h.at)} UTC{how}{running}."


def _parse_at(text: str) -> float | None:
    try:
        return ev.parse_iso_utc(text) if text else None
    except ValueError:
        return None


def _category(phase: str) -> str:
    return "check" if phase in CHECK_PHASES else "step"


def _noun(phase: str, title: str) -> str:
    if phase == "precheck":
        return f"The pre-check “{title}”"
    if phase == "verification":
        return f"The verification check “{title}”"
    return f"Step “{title}”"


def _finished_text(noun: str, e: ev.StepFinished) -> str:
    took = format_seconds(e.duration)
    on = f" on attempt {e.attempt}" if e.attempt > 1 else ""
    code = f" (exit code {e.exit_code})" if e.exit_code not in (None, 0) else ""
    why = f": {_one_line(e.message)}" if e.message else "."
    if e.status == "passed":
        return f"{noun} passed{on} in {took}{why}"
    if e.status == "ticked":
        return f"{noun} was ticked without being done{on}{why}"
    if e.status == "failed":
        return f"{noun} failed{on} after {took}{code}{why}"
    if e.status == "cancelled":
        return f"{noun} was cancelled after {took}{why}"
    if e.status == "unknown":
        return f"{noun} ended after {took}; its effect could not be determined{why}"
    return f"{noun} ended {e.status} after {took}{why}"


def _scope(scope: str) -> str:
    return "recovery window" if scope == "procedure" else f"deadline of decision row {scope}"


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ⏎ ".join(lines)
