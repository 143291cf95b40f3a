"""The session as evidence (issue 17): what the record says about the incident, not the run.

Who holds the session (the operator, handoffs, roles), when impact started, notes,
action items, checklists ticked, templates filled, the pre-flight and the plan the
engineer saw, a stale lock taken over, and the note inbox that lets ``runbook-tui
note`` hand items to a running session (``core/inbox.py``). Each intent here checks
what it is given and emits one event; none of them runs a step or changes the clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from .. import events as ev
from .. import preflight as pf
from ..errors import UsageError
from ..model import Runbook
from ..worklock import WorkLock
from .emitter import Emitter, now
from .executor import StepPlan

if TYPE_CHECKING:
    from ..inbox import InboxServer


class EvidenceRecorder:
    """Builds the evidence events of one session and owns its note inbox.

    It holds what the evidence says that the session reads back: the current operator
    (a handoff changes it) and the impact start. ``warnings`` is the session's list of
    what is said to the engineer (an inbox that cannot be opened).
    """

    def __init__(
        self,
        runbook: Runbook,
        plan: StepPlan,
        emitter: Emitter,
        *,
        operator: str,
        impact_started_at: float | None,
        roles: Mapping[str, str],
        warnings: list[str],
    ) -> None:
        self._runbook = runbook
        self._plan = plan
        self._emitter = emitter
        self.operator = operator
        self.impact_started_at = impact_started_at
        self._initial_roles = dict(roles)  # --role: journalled right after session_started
        self._warnings = warnings
        self._inbox: InboxServer | None = None  # while the session runs

    # --- at the start ---------------------------------------------------------------

    def opened(self, lock: WorkLock | None) -> None:
        """Right after ``session_started``: a stale lock taken over, then the roles given up front."""
        self.takeover(lock)
        if self._initial_roles:
            self.set_roles(self._initial_roles)

    def takeover(self, lock: WorkLock | None) -> None:
        """Journal that a stale lock (its process gone) was taken over, naming the old holder."""
        old = lock.taken_over if lock is not None else None
        if lock is None or old is None:
            return
        self._emitter.emit(
            ev.LockTakenOver(
                workdir=lock.holder.workdir,
                previous_session_id=old.session_id,
                previous_operator=old.operator,
                previous_host=old.host,
                previous_pid=old.pid,
                previous_started=old.started,
                at=now(),
            )
        )

    def adopt(self, impact_started_at: float | None) -> None:
        """Take over a recorded session's impact start (resume)."""
        self.impact_started_at = impact_started_at

    # --- intents ----------------------------------------------------------------------

    def note(self, text: str, step_id: str | None = None, *, author: str | None = None) -> None:
        """Add a note to the session (or to one step); ``author`` defaults to the operator."""
        if step_id is not None:
            self._plan.lookup(step_id)
        if not text or not text.strip():
            raise UsageError("a note needs some text")
        self._emitter.emit(
            ev.NoteAdded(
                text=self._emitter.redact(text.strip()),
                step_id=step_id,
                author=author or self.operator,
                at=now(),
            )
        )

    def set_impact_started(self, at: float, source: str = "engineer") -> None:
        """Record (or correct) when impact started; the report's metrics run from it, windows do not."""
        if at > now() + 1:
            raise UsageError("impact cannot have started in the future")
        self.impact_started_at = at
        self._emitter.emit(
            ev.ImpactStartedSet(impact_started_at=at, source=source, by=self.operator, at=now())
        )

    def add_action_item(
        self, text: str, owner: str, due: str = "", step_id: str | None = None, *, author: str | None = None
    ) -> None:
        """Record a follow-up with an owner (and a due date, YYYY-MM-DD)."""
        from ..evidence import check_text, parse_due

        if step_id is not None:
            self._plan.lookup(step_id)
        item = ev.ActionItemAdded(
            text=self._emitter.redact(check_text(text, "an action item")),
            owner=check_text(owner, "an action item's owner"),
            due=parse_due(due),
            author=author or self.operator,
            step_id=step_id,
            at=now(),
        )
        self._emitter.emit(item)

    def set_roles(self, roles: Mapping[str, str]) -> None:
        """Record who holds which role (the whole set as it is now)."""
        merged = {**dict(self._emitter.state.roles), **{k: v for k, v in roles.items() if v}}
        self._emitter.emit(ev.RolesSet(roles=merged, by=self.operator, at=now()))

    def handoff(self, to_operator: str, reason: str = "handoff") -> None:
        """The session passes to ``to_operator``: journalled with what is running at that moment."""
        from ..evidence import check_text

        to = check_text(to_operator, "the operator taking over")
        state = self._emitter.state
        before = state.current_operator or self.operator
        self._emitter.emit(
            ev.Handoff(from_operator=before, to_operator=to, reason=reason, running=state.running(), at=now())
        )
        self.operator = to

    def tick(self, checklist_id: str, item: int, done: bool = True) -> None:
        """Tick (or untick) item ``item`` (0-based) of a checklist."""
        checklist = next((c for c in self._runbook.checklists if c.id == checklist_id), None)
        if checklist is None or not 0 <= item < len(checklist.items):
            raise UsageError(f"no item {item} in checklist {checklist_id!r}")
        self._emitter.emit(ev.ChecklistTicked(checklist_id=checklist_id, item=item, done=done, at=now()))

    def fill_template(self, template_id: str, text: str) -> None:
        """Save a filled communication template into the session (secrets redacted)."""
        self._emitter.emit(
            ev.TemplateFilled(template_id=template_id, text=self._emitter.redact(text), at=now())
        )

    def preflight(self, findings: Iterable[pf.Finding], *, accepted: bool, by: str) -> None:
        """Journal that the pre-flight's findings were shown, and whether the run goes on."""
        lines = tuple(self._emitter.redact(line) for line in pf.describe(findings))
        self._emitter.emit(ev.PreflightChecked(findings=lines, accepted=accepted, by=by, at=now()))

    def plan(self, lines: Iterable[str], unplanned: Iterable[str], *, by: str) -> None:
        """Journal the plan that was shown before the run (see :mod:`..plan`)."""
        redact = self._emitter.redact
        self._emitter.emit(
            ev.PlanReviewed(
                lines=tuple(redact(line) for line in lines),
                unplanned=tuple(redact(line) for line in unplanned),
                by=by,
                at=now(),
            )
        )

    # --- the note inbox ---------------------------------------------------------------

    def open_inbox(self) -> None:
        """Take notes handed in by ``runbook-tui note`` while this session runs (core/inbox.py)."""
        journal = self._emitter.journal
        if journal is None or self._inbox is not None:
            return
        from ..inbox import InboxServer, deliver_to

        inbox = InboxServer(journal.path, deliver_to(self))
        try:
            inbox.drain()  # left by a session that died with items waiting
            inbox.start()
        except OSError as exc:
            # Notes can still be appended after the session ends; the run itself goes on.
            self._warnings.append(
                f"{exc.filename or journal.path}: cannot take handed-in notes ({exc.strerror}); "
                "do not use 'runbook-tui note' on this session until it ends"
            )
            return
        self._inbox = inbox

    def close_inbox(self, *, drain_first: bool) -> None:
        """Stop taking handed-in notes (journalling what waits first when ``drain_first``)."""
        if self._inbox is not None:
            self._inbox.stop(drain_first=drain_first)
            self._inbox = None
