"""The single pass: journal records folded, one at a time, into a ``Report``.

``ReportFold`` keeps what the report shows (rows, attempts, skips, edits, notes,
...) and no more: output lines are counted and only a short tail per attempt is
kept, so a session with millions of lines reports in bounded memory. The
sentences come from ``wording``, the time metrics from ``metrics``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import events as ev
from ..journal.codec import output_step_id
from ..journal.records import StreamStatus, parse_line, parse_record
from . import wording
from .metrics import Breach, Clock, compute_metrics, milestone_problems
from .model import (
    ActionItem,
    Attempt,
    Confirmation,
    Decision,
    Edit,
    FilledTemplate,
    FleetStep,
    HandoffRow,
    HostRow,
    Note,
    Parameter,
    Report,
    Row,
    Skip,
    Tick,
)

TAIL_LINES = 20
CHECK_PHASES = frozenset({"precheck", "verification"})


@dataclass(slots=True)
class OpenAttempt:
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


class ReportFold:
    """Folds a journal's records, in order, into the ``Report`` that ``finish`` returns."""

    def __init__(self) -> None:
        self.started: ev.SessionStarted | None = None
        self.finished: ev.SessionFinished | None = None
        self.first_at: float | None = None
        self.last_at: float | None = None
        self.rows: list[tuple[float, int, str, str, str, str | None, str]] = []
        self.attempts: list[OpenAttempt] = []
        self.current: dict[str, OpenAttempt] = {}  # step id -> its latest attempt
        self.current_raw: dict[bytes, OpenAttempt] = {}  # the same, keyed by the id's UTF-8 bytes
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
        """Already-read records (event dicts as ``events.to_dict`` makes them)."""
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

    # --- one handler per event kind: keep what the report shows, add its row ----

    def _on_session_started(self, e: ev.SessionStarted) -> None:
        if self.started is None:
            self.started = e
        self._row(e, "session", wording.session_started(e))

    def _on_decision_made(self, e: ev.DecisionMade) -> None:
        self.decisions.append(Decision(e.row_id, e.issue, e.procedure_id, e.deadline_seconds, e.by, e.at))
        self._row(e, "decision", wording.decision_made(e))

    def _on_parameter_set(self, e: ev.ParameterSet) -> None:
        self.params.append(Parameter(e.name, e.value, e.secret, e.source, e.at))
        self._row(e, "parameter", wording.parameter_set(e))

    def _on_step_started(self, e: ev.StepStarted) -> None:
        self.titles[e.step_id] = e.title
        role = e.role
        if role:
            self.roles[e.step_id] = role
        open_ = OpenAttempt(e)
        self.attempts.append(open_)
        self.current[e.step_id] = open_
        self.current_raw[e.step_id.encode("utf-8")] = open_
        self._row(e, _category(e.phase), wording.step_started(e), e.step_id)

    def _on_step_finished(self, e: ev.StepFinished) -> None:
        open_ = self.current.get(e.step_id)
        if open_ is not None and open_.finished is None:
            open_.finished = e
        hosts = e.data.get("hosts") if isinstance(e.data, dict) else None
        if isinstance(hosts, list):
            self.fleet_matched[e.step_id] = (str(e.data.get("pattern", "")), [str(h) for h in hosts])
        phase = open_.started.phase if open_ else "step"
        self._row(e, _category(phase), wording.step_finished(e, phase, self._title(e.step_id)), e.step_id)

    def _on_host_started(self, e: ev.HostStarted) -> None:
        attempt = self.current[e.step_id].started.attempt if e.step_id in self.current else None
        rows = self.fleet_rows.setdefault(e.step_id, {})
        rows[e.host] = HostRow(e.host, "running", e.batch, attempt=attempt)

    def _on_host_finished(self, e: ev.HostFinished) -> None:
        attempt = self.current[e.step_id].started.attempt if e.step_id in self.current else None
        rows = self.fleet_rows.setdefault(e.step_id, {})
        rows[e.host] = HostRow(e.host, e.status, e.batch, e.duration, e.rc, e.message, attempt)
        if e.status != "ok":
            self._row(e, "step", wording.host_finished(e, self._title), e.step_id)

    def _on_step_skipped(self, e: ev.StepSkipped) -> None:
        self.skips.append(Skip(e.step_id, self._title(e.step_id), e.reason, e.at))
        self._row(e, "skip", wording.step_skipped(e, self._title), e.step_id)

    def _on_variable_carried(self, e: ev.VariableCarried) -> None:
        self._row(e, "variable", wording.variable_carried(e), e.step_id)

    def _on_plan(self, e: ev.PlanReviewed) -> None:
        self.plans.append(e)
        self._row(e, "plan", wording.plan_reviewed(e))

    def _on_run_from(self, e: ev.RunFrom) -> None:
        self._row(e, "restart", wording.run_from(e), e.step_id)
        for step_id in e.skipped:
            self.skips.append(Skip(step_id, self._title(step_id), wording.skipped_over(e), e.at))

    def _on_retry_requested(self, e: ev.RetryRequested) -> None:
        self._row(e, "restart", wording.retry_requested(e), e.step_id)

    def _on_step_interrupted(self, e: ev.StepInterrupted) -> None:
        open_ = self.current.get(e.step_id)
        if open_ is not None and open_.finished is None:
            open_.interrupted = True
        self._row(e, "step", wording.step_interrupted(e, self._title), e.step_id)

    def _on_step_marked_done(self, e: ev.StepMarkedDone) -> None:
        open_ = self.current.get(e.step_id)
        if open_ is not None:
            open_.done_note = e.note
        self._row(e, "step", wording.step_marked_done(e, self._title), e.step_id)

    def _on_confirmation_given(self, e: ev.ConfirmationGiven) -> None:
        self.confirmations.append(Confirmation(e.step_id, e.message, True, e.by, e.at))
        self._row(e, "confirmation", wording.confirmation_given(e, self._title), e.step_id)

    def _on_confirmation_declined(self, e: ev.ConfirmationDeclined) -> None:
        self.confirmations.append(Confirmation(e.step_id, e.message, False, "engineer", e.at))
        self._row(e, "confirmation", wording.confirmation_declined(e, self._title), e.step_id)

    def _on_file_edited(self, e: ev.FileEdited) -> None:
        self.edits.append(Edit(e.step_id, e.path, e.diff, e.before_sha256, e.after_sha256, e.at))
        self._row(e, "edit", wording.file_edited(e, self._title), e.step_id)

    def _on_edit_undone(self, e: ev.EditUndone) -> None:
        for index in range(len(self.edits) - 1, -1, -1):
            edit = self.edits[index]
            if edit.step_id == e.step_id and edit.path == e.path and edit.undone_at is None:
                self.edits[index] = Edit(
                    edit.step_id, edit.path, edit.diff, edit.before_sha256, edit.after_sha256, edit.at, e.at
                )
                break
        self._row(e, "edit", wording.edit_undone(e, self._title), e.step_id)

    def _on_note_added(self, e: ev.NoteAdded) -> None:
        self.notes.append(Note(e.text, e.at, e.step_id, e.author))
        self._row(e, "note", wording.note_added(e, self._title), e.step_id)

    def _on_milestone(self, e: ev.MilestoneReached) -> None:
        if e.milestone not in self.milestones:
            self.milestone_order.append(e.milestone)
        self.milestones.setdefault(e.milestone, e.at)
        self._row(e, "milestone", wording.milestone_reached(e, self._title), e.step_id)

    def _on_window_warning(self, e: ev.WindowWarning) -> None:
        self.warnings.append(Breach(e.scope, e.elapsed, e.target, e.at))
        self._row(e, "window", wording.window_warning(e))

    def _on_window_breached(self, e: ev.WindowBreached) -> None:
        self.breaches.append(Breach(e.scope, e.elapsed, e.target, e.at))
        self._row(e, "window", wording.window_breached(e))

    def _on_template_filled(self, e: ev.TemplateFilled) -> None:
        self.templates[e.template_id] = FilledTemplate(e.template_id, e.text, e.at)
        self._row(e, "template", wording.template_filled(e))

    def _on_checklist_ticked(self, e: ev.ChecklistTicked) -> None:
        self.ticks[(e.checklist_id, e.item)] = Tick(e.checklist_id, e.item, e.done, e.at)
        self._row(e, "checklist", wording.checklist_ticked(e))

    def _on_session_resumed(self, e: ev.SessionResumed) -> None:
        self._row(e, "resume", wording.session_resumed(e))

    def _on_session_finished(self, e: ev.SessionFinished) -> None:
        self.finished = e
        self._row(e, "session", wording.session_finished(e))

    # Category "integrity", not "resume": the resume rows are the resumes the report counts.
    def _on_lock_taken_over(self, e: ev.LockTakenOver) -> None:
        self._row(e, "integrity", wording.lock_taken_over(e))

    def _on_damaged_line_accepted(self, e: ev.DamagedLineAccepted) -> None:
        self._row(e, "integrity", wording.damaged_line_accepted(e))

    def _on_impact_started_set(self, e: ev.ImpactStartedSet) -> None:
        self.impact_set = e  # the last correction wins
        self._row(e, "impact", wording.impact_started_set(e))

    def _on_action_item(self, e: ev.ActionItemAdded) -> None:
        self.action_items.append(ActionItem(e.text, e.owner, e.due, e.author, e.at, e.step_id))
        self._row(e, "action", wording.action_item_added(e), e.step_id)

    def _on_roles_set(self, e: ev.RolesSet) -> None:
        self.session_roles = {str(k): str(v) for k, v in e.roles.items()}
        self._row(e, "roles", wording.roles_set(self.session_roles))

    def _on_handoff(self, e: ev.Handoff) -> None:
        running = tuple(str(s) for s in e.running)
        self.handoffs.append(HandoffRow(e.from_operator, e.to_operator, e.reason, running, e.at))
        self._row(e, "handoff", wording.handoff_sentence(self.handoffs[-1], self._title))

    # --- freezing ------------------------------------------------------------

    def finish(self, path: str, status: StreamStatus) -> Report:
        """The report of everything fed so far (``path`` and the reader's ``status`` as given)."""
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
        clock = Clock(
            s, finished, self.impact_set, start, self.last_at, self.milestones, self.breaches, self.warnings
        )
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
            metrics=compute_metrics(clock),
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
            milestone_problems=milestone_problems(clock),
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

    def _attempt(self, o: OpenAttempt) -> Attempt:
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


def _parse_at(text: str) -> float | None:
    try:
        return ev.parse_iso_utc(text) if text else None
    except ValueError:
        return None


def _category(phase: str) -> str:
    return "check" if phase in CHECK_PHASES else "step"
