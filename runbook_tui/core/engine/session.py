"""The engine's front: a :class:`Session` runs a procedure and takes the engineer's intents.

Everything that happens becomes an event, delivered in order to the journal, the
state fold and every subscriber (``emitter.py``). Parameters are asked for right
before the first step that needs them (``parameters.py``); a step runs behind its
gate (``executor.py``); a clock task warns at 80% of each window and records every
breach (``clock.py``, timed by ``windows.py``); ``resume.py`` continues a session
from its journal. The session holds the lifecycle (start, finish, close, hang-up,
a journal that cannot be written, the working directory's lock) and the intents the
app, the plain runner and the commands call; what the record says about the incident
(notes, roles, handoffs, action items, the note inbox) is built by ``record.py``.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import pwd
import socket
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from ... import __version__, locations
from .. import edits
from .. import events as ev
from .. import preflight as pf
from ..asker import Asker
from ..errors import UsageError
from ..events import Outcome, Phase, StepStatus
from ..journal import Journal, JournalWriteError, new_session_id
from ..journal.fold import SessionState
from ..model import Procedure, Runbook, Step, StepKind
from ..steps.base import AppliedEdit
from ..worklock import WorkLock
from .clock import SessionClock
from .emitter import Emitter, Listener, now
from .executor import Executor, StepPlan, Surroundings
from .parameters import CarriedVariables, Parameters
from .record import EvidenceRecorder
from .resume import file_sha256, resume_session

if TYPE_CHECKING:
    from ..drills.limits import DrillLimits

_RERUNNABLE = (StepStatus.PENDING, StepStatus.NEEDS_YOU, StepStatus.INTERRUPTED)


def default_operator() -> str:
    """``user@host`` of whoever runs this process, or ``person as account@host`` when they differ.

    ``user`` is the account of the effective uid (what the kernel checks files against;
    not ``$USER``, which ``setpriv`` and ``su -m`` leave as it was). When a different
    person is behind it, they come first: ``SUDO_USER`` (sudo says who ran it), else the
    login name of the terminal (``su``/``runuser`` from a login keeps it).
    """
    user = _account_name(os.geteuid())
    person = _person_behind(user)
    who = f"{person} as {user}" if person else user
    return f"{who}@{socket.gethostname()}"


def _account_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        try:
            return getpass.getuser()  # a uid the passwd database does not know (a container)
        except (KeyError, OSError):
            return str(uid)


def _person_behind(account: str) -> str:
    """Who logged in or ran sudo, when that is not ``account`` (else "")."""
    person = os.environ.get("SUDO_USER", "")
    if not person:
        try:
            person = os.getlogin()
        except OSError:  # no controlling terminal, or no utmp record (containers, CI)
            person = ""
    return person if person and person != account else ""


class Session:
    """One run of one procedure. See ``docs/architecture.md`` (Engine API).

    Its parts, each owning its own concern: the :class:`~.emitter.Emitter` (the
    record: journal, fold, listeners, redaction), :class:`~.parameters.Parameters`
    and :class:`~.parameters.CarriedVariables` (values; secrets in memory alone), the
    :class:`~.executor.Executor` (running steps), the :class:`~.clock.SessionClock` and
    the :class:`~.record.EvidenceRecorder` (the evidence: notes, roles, handoffs, the note inbox).
    Every one of them reads the session's state from the fold (``state``).
    """

    def __init__(
        self,
        runbook: Runbook,
        procedure: Procedure | str,
        *,
        workdir: Path,
        ask: Asker,
        mode: str = "live",
        params: Mapping[str, str] | None = None,
        journal: Journal | None = None,
        operator: str | None = None,
        env: Mapping[str, str] | None = None,
        backup_dir: Path | None = None,
        impact_started_at: float | None = None,
        param_source: str = "command-line",
        limits: DrillLimits | None = None,
        param_sources: Mapping[str, str] | None = None,
        worklock: WorkLock | None = None,
        roles: Mapping[str, str] | None = None,
    ) -> None:
        self.runbook = runbook
        self.procedure = _procedure(runbook, procedure)
        self.workdir = Path(workdir).resolve()
        self.mode = mode
        self.env: Mapping[str, str] = {**os.environ, **(env or {})}
        # Drills cap watch steps (a 5-minute log watch) and http retries so a practice run does
        # not wait them out; a live session always waits as long as the runbook says.
        self.limits = limits if mode == "drill" else None
        self.session_id = journal.session_id if journal else new_session_id(runbook.id)
        self.backup_dir = backup_dir or locations.backups_dir() / self.session_id
        self.runbook_changed = False
        self.warnings: list[str] = []  # said to the engineer (a changed runbook on resume, ...)
        self._emitter = Emitter(None, self._stop_unrecorded)  # the journal is attached once all is built
        self._params = Parameters(
            runbook,
            self._emitter,
            ask,
            workdir=self.workdir,
            env=self.env,
            given=params or {},
            sources=param_sources or {},
            default_source=param_source,
        )
        self._carried = CarriedVariables(self._emitter, ask)
        self._plan = StepPlan(self.procedure)
        self._record = EvidenceRecorder(
            runbook,
            self._plan,
            self._emitter,
            operator=operator or default_operator(),
            impact_started_at=impact_started_at,
            roles=roles or {},
            warnings=self.warnings,
        )
        where = Surroundings(self.workdir, self.env, mode == "drill", self.backup_dir, self.limits)
        self._executor = Executor(
            self._plan,
            self._emitter,
            self._params,
            self._carried,
            ask,
            where,
            operator=lambda: self.operator,
            warnings=self.warnings,
        )
        self._clock = SessionClock(runbook, self.procedure, self._emitter)
        self._started = False
        self._finished = False
        self._outcome: Outcome | None = None
        self._lock_release: asyncio.Task[None] | None = None  # releases the lock once stopped steps stop
        self._emitter.attach(journal)
        # The working directory's lock (one live session per workdir): released at finish or close.
        self.worklock = worklock

    # --- reading --------------------------------------------------------------

    @property
    def operator(self) -> str:
        """Who runs the session now (a handoff changes it)."""
        return self._record.operator

    @property
    def impact_started_at(self) -> float | None:
        """When impact started, as given or last corrected."""
        return self._record.impact_started_at

    @property
    def state(self) -> SessionState:
        """The session so far: a fold over every event emitted (and, on resume, loaded)."""
        return self._emitter.folder.state

    @property
    def journal_path(self) -> Path | None:
        journal = self._emitter.journal
        return journal.path if journal else None

    @property
    def outcome(self) -> Outcome | None:
        return self._outcome

    @property
    def journal_failure(self) -> JournalWriteError | None:
        """Set when the journal cannot be written: no step starts after it (nothing runs unrecorded)."""
        return self._emitter.failure

    def steps(self) -> list[tuple[Step, Phase]]:
        """Every step in the order it runs: pre-checks, steps, verification."""
        return list(self._plan)

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(event)`` for every event from now on, in order; returns an unsubscribe."""
        return self._emitter.subscribe(callback)

    def redact(self, text: str) -> str:
        """``text`` with every secret value hidden."""
        return self._emitter.redact(text)

    # --- lifecycle --------------------------------------------------------------

    async def start(self) -> None:
        """Emit SessionStarted (and the parameters given up front) and start the clock."""
        self._emitter.bind_loop()
        if not self._started:
            self._started = True
            proc = self.procedure
            self._emit(
                ev.SessionStarted(
                    session_id=self.session_id,
                    runbook_id=self.runbook.id,
                    runbook_title=self.runbook.title,
                    runbook_path=str(Path(self.runbook.path).resolve()) if self.runbook.path else "",
                    runbook_sha256=file_sha256(self.runbook.path),
                    procedure_id=proc.id,
                    procedure_title=proc.title,
                    mode=self.mode,
                    operator=self.operator,
                    app_version=__version__,
                    target_seconds=proc.target_seconds,
                    window_text=proc.window.text if proc.window else "",
                    workdir=str(self.workdir),
                    impact_started_at=self.impact_started_at,
                    at=now(),
                )
            )
            self._record.opened(self.worklock)
        self._params.record_given()
        self._ensure_clock()
        self._record.open_inbox()

    async def finish(
        self, *, aborted: bool = False, cancel_background: bool = False, message: str = ""
    ) -> Outcome:
        """Wait for (or cancel) background steps, stop the clock, emit SessionFinished, close the journal."""
        if self._finished and self._outcome is not None:
            return self._outcome
        self._require_started()
        await self._raise_journal_failure()  # never a recorded end after an unrecorded middle
        await self._executor.settle(cancel=aborted or cancel_background)
        await self._clock.stop()
        self._clock.check()
        self._record.close_inbox(drain_first=True)  # notes handed in before the end are journalled before it
        outcome = Outcome.ABORTED if aborted else self._judge()
        started_at = self.state.started_at
        assert started_at is not None
        at = now()
        self._emit(
            ev.SessionFinished(outcome=outcome.value, duration=at - started_at, message=message, at=at)
        )
        self._finished = True
        self._emitter.ended = True
        self._outcome = outcome
        try:
            journal = self._emitter.journal
            if journal is not None:
                journal.close()
        finally:
            self._release_worklock()
        return outcome

    def close(self) -> None:
        """Stop recording without finishing (the engineer left): the session stays open for resume.

        A no-op once finished: what comes after the end (an undo, a note) is still recorded.
        """
        if self._finished:
            return
        self._record.close_inbox(drain_first=False)  # what waits stays for the next note or resume
        self._emitter.recording = (
            False  # cancelled steps finish in memory only; the journal keeps them running
        )
        self.cancel_all()
        self._clock.cancel()
        try:
            journal = self._emitter.journal
            if journal is not None:
                journal.close()
        finally:
            self._release_worklock()

    def hang_up(self, why: str = "the terminal hung up") -> None:
        """The terminal went away: stop running steps, unrecorded, and leave the session open.

        The journal ends with those steps still running, so resume marks them interrupted
        and the engineer decides whether to run them again; a command left running on its
        own after an SSH drop could otherwise run twice. ``wait_idle`` waits for the stop.
        """
        said = f"{why}: stopping it; 'runbook-tui resume' asks whether to run it again"
        for step_id in self._executor.running():
            self._emitter.output(step_id, said, "info")
        self.close()  # what the stop itself prints and returns is not the step's result

    async def wait_idle(self) -> None:
        """Wait until no step is running (after a cancel or a hang-up, say)."""
        await self._executor.wait_idle()

    def _judge(self) -> Outcome:
        state = self.state
        ok = all(state.step(step.id).status.is_ok for step, _ in self._plan)
        return Outcome.SUCCEEDED if ok else Outcome.FAILED

    # --- running ----------------------------------------------------------------

    async def run_step(self, step_id: str) -> StepStatus:
        """Run one step (pre-check, step or verification) and return how it ended; retry = run it again."""
        self._require_started()
        task = self._executor.spawn(step_id)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # Whoever awaited us was cancelled (Ctrl-C): stop the step and let it record that.
            task.cancel()
            await asyncio.wait({task})
            raise

    def run_in_background(self, step_id: str) -> asyncio.Task[StepStatus]:
        """Start a step and return at once (watch steps); its StepFinished arrives later."""
        self._require_started()
        return self._executor.spawn(step_id)

    async def run_all(self, stop_on_failure: bool = True) -> bool:
        """Run every step not yet done, in order; True when the end was reached with every step ok.

        A failed pre-check always stops the run (unless it may fail); a failed step
        stops it when ``stop_on_failure``; a gate left unconfirmed or a step that
        needs the engineer stops it. Watch steps start in the background.
        """
        self._require_started()
        for step, phase in self._plan:
            await self._raise_journal_failure()
            status = self.state.step(step.id).status
            if status.is_ok or status is StepStatus.RUNNING:
                continue
            if status in _RERUNNABLE:
                if step.kind is StepKind.WATCH:
                    self.run_in_background(step.id)
                    continue
                status = await self.run_step(step.id)
                if status.is_ok:
                    continue
            await self._raise_journal_failure()
            if status in (StepStatus.NEEDS_YOU, StepStatus.CANCELLED, *_RERUNNABLE):
                return False
            if step.continue_on_failure:
                continue
            if phase is Phase.PRECHECK or stop_on_failure:
                return False
        return all(self.state.step(s.id).status.is_ok for s, _ in self._plan if s.kind is not StepKind.WATCH)

    def cancel(self, step_id: str) -> bool:
        """Cancel a running step (shell: SIGINT, SIGTERM, SIGKILL of its group); False if not running."""
        return self._executor.cancel(step_id)

    def cancel_all(self) -> None:
        """Cancel every running step, foreground and background."""
        self._executor.cancel_all()

    # --- intents that do not run anything ---------------------------------------

    def skip(self, step_id: str, reason: str) -> None:
        """Skip a step; the reason is required and recorded."""
        self._lookup(step_id)
        if not reason or not reason.strip():
            raise UsageError(f"skipping step {step_id!r} needs a reason; say why it is not needed")
        if self._executor.is_running(step_id):
            raise UsageError(f"step {step_id!r} is running; cancel it before skipping it")
        self._emit(ev.StepSkipped(step_id=step_id, reason=self.redact(reason.strip()), at=now()))

    def note(self, text: str, step_id: str | None = None, *, author: str | None = None) -> None:
        """Add a note to the session (or to one step); ``author`` defaults to the operator."""
        self._record.note(text, step_id, author=author)

    def mark_done(self, step_id: str, note: str) -> None:
        """Declare a step done (an interrupted or manual one) with a note saying how it is known."""
        self._lookup(step_id)
        if not note or not note.strip():
            raise UsageError(f"marking step {step_id!r} done needs a note saying how you know it is done")
        if self._executor.is_running(step_id):
            raise UsageError(f"step {step_id!r} is running; wait for it or cancel it first")
        self._emit(ev.StepMarkedDone(step_id=step_id, note=self.redact(note.strip()), at=now()))

    def undo_edit(self, step_id: str) -> str:
        """Restore the backup of the step's last file edit; returns the restored file's sha256."""
        self._lookup(step_id)
        record = self.state.step(step_id).active_edit  # the newest edit not undone, as journalled
        if record is None:
            raise UsageError(f"step {step_id!r} has no file edit to undo")
        edit = AppliedEdit(
            Path(record.path), Path(record.backup), record.diff, record.before_sha256, record.after_sha256
        )
        restored = edits.undo(edit)  # EditError (file changed since, backup gone) says what to do
        self._emit(ev.EditUndone(step_id=step_id, path=record.path, restored_sha256=restored, at=now()))
        return restored

    def preflight(self) -> tuple[pf.Finding, ...]:
        """What the procedure's shell steps need that is missing here (see :mod:`..preflight`)."""
        return pf.check(self.runbook, self.procedure, env=self.env, workdir=self.workdir)

    def record_preflight(self, findings: Iterable[pf.Finding], *, accepted: bool, by: str) -> None:
        """Journal that the pre-flight's findings were shown, and whether the run goes on."""
        self._require_started()
        self._record.preflight(findings, accepted=accepted, by=by)

    def record_plan(self, lines: Iterable[str], unplanned: Iterable[str], *, by: str) -> None:
        """Journal the plan that was shown before the run (see :mod:`..plan`)."""
        self._require_started()
        self._record.plan(lines, unplanned, by=by)

    def run_from(self, step_id: str, by: str | None = None) -> tuple[list[str], list[str]]:
        """Run again from ``step_id``: earlier steps not done are skipped over, later ones run again.

        Journalled (``run_from``) with who chose it; returns (skipped, to run again).
        Needs no running event loop: ``resume --from`` records it before the run starts.
        """
        if not self._started or self._finished:
            raise UsageError("run from a step needs a session that has started and not finished")
        self._lookup(step_id)
        running = self._executor.running()
        if running:
            raise UsageError(f"step(s) {', '.join(running)} are running; wait for them or cancel them first")
        ids = self._plan.ids()
        at = ids.index(step_id)
        state = self.state
        skipped = [sid for sid in ids[:at] if not state.step(sid).status.is_ok]
        rerun = [sid for sid in ids[at:] if state.step(sid).status is not StepStatus.PENDING]
        self._emit(
            ev.RunFrom(
                step_id=step_id, skipped=tuple(skipped), rerun=tuple(rerun), by=by or self.operator, at=now()
            )
        )
        return skipped, rerun

    async def retry(self, step_id: str, by: str | None = None) -> StepStatus:
        """Run a step that failed (or was cancelled or interrupted) again, alone; journalled as a retry."""
        self._require_started()
        step, _phase = self._lookup(step_id)
        status = self.state.step(step_id).status
        if status not in (
            StepStatus.FAILED,
            StepStatus.CANCELLED,
            StepStatus.INTERRUPTED,
            StepStatus.UNKNOWN,
        ):
            raise UsageError(f"step {step_id!r} is {status.value}; only a failed step is retried")
        self._emit(
            ev.RetryRequested(
                step_id=step_id, attempt=self._executor.attempt(step_id), by=by or self.operator, at=now()
            )
        )
        return await self.run_step(step.id)

    def param_values(self) -> dict[str, str]:
        """The parameter values known so far, secrets included (for :mod:`..plan`, which masks them)."""
        return self._params.values()

    def carried_used(self, step_id: str) -> list[tuple[str, str, str]]:
        """Carried variables the step reads: (name, value as shown, step that set it)."""
        step, _phase = self._lookup(step_id)
        return self._carried.used(step)

    def set_param(self, name: str, value: str | None, source: str = "prompt") -> str:
        """Validate and record a parameter value (redacted in events if secret); returns the value used."""
        validated = self._params.validated(name, value)
        self._params.record(name, validated, source if value else "default")
        return validated

    def decide(self, row_id: str, by: str = "engineer") -> None:
        """Record the decision-matrix row triage picked; its deadline joins the clock."""
        row = next((r for r in self.runbook.decision_matrix.rows if r.id == row_id), None)
        if row is None:
            known = ", ".join(r.id for r in self.runbook.decision_matrix.rows) or "none"
            raise UsageError(f"the decision matrix has no row {row_id!r} (rows: {known})")
        deadline = row.deadline.target_seconds if row.deadline else None
        self._emit(
            ev.DecisionMade(
                row_id=row.id,
                issue=row.issue,
                procedure_id=row.procedure,
                deadline_seconds=deadline,
                by=by,
                at=now(),
            )
        )
        self._clock.wake()

    def tick(self, checklist_id: str, item: int, done: bool = True) -> None:
        """Tick (or untick) item ``item`` (0-based) of a checklist."""
        self._record.tick(checklist_id, item, done)

    def fill_template(self, template_id: str, text: str) -> None:
        """Save a filled communication template into the session (secrets redacted)."""
        self._record.fill_template(template_id, text)

    # --- the session as evidence (issue 17; record.py) -----------------------------

    def set_impact_started(self, at: float, source: str = "engineer") -> None:
        """Record (or correct) when impact started; the report's metrics run from it, windows do not."""
        self._record.set_impact_started(at, source)

    def add_action_item(
        self, text: str, owner: str, due: str = "", step_id: str | None = None, *, author: str | None = None
    ) -> None:
        """Record a follow-up with an owner (and a due date, YYYY-MM-DD)."""
        self._record.add_action_item(text, owner, due, step_id, author=author)

    def set_roles(self, roles: Mapping[str, str]) -> None:
        """Record who holds which role (the whole set as it is now)."""
        self._record.set_roles(roles)

    def handoff(self, to_operator: str, reason: str = "handoff") -> None:
        """The session passes to ``to_operator``: journalled with what is running at that moment."""
        self._record.handoff(to_operator, reason)

    # --- resume -------------------------------------------------------------------

    @classmethod
    def resume(
        cls,
        journal_path: Path,
        runbook: Runbook,
        ask: Asker,
        *,
        workdir: Path | None = None,
        operator: str | None = None,
        env: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        backup_dir: Path | None = None,
        param_sources: Mapping[str, str] | None = None,
        lock_workdir: bool = False,
        accept_damaged: bool = False,
    ) -> Session:
        """Continue a session from its journal: completed steps stay done, a running one is interrupted.

        Secret values were never journalled, so they come from ``params`` or are asked
        again. A value already recorded stays as recorded: a parameter does not change
        across resume (a different one given now is set aside with a warning).

        ``lock_workdir``: take the working directory's lock first (see ``core/worklock.py``);
        another live session there is a :class:`~..worklock.WorkdirLocked` refusal, and
        nothing is written to the journal.

        A damaged line before the journal's end (not a torn last line) is a
        :class:`~..journal.DamagedJournal` refusal naming the line and its step, unless
        ``accept_damaged``: then each acceptance is journalled (``damaged_line_accepted``)
        and the step it belongs to, unless recorded as done, is marked interrupted so the
        engineer decides whether it runs again: never silently. See :mod:`.resume`.
        """
        return resume_session(
            cls,
            journal_path,
            runbook,
            ask,
            workdir=workdir,
            operator=operator,
            env=env,
            params=params,
            backup_dir=backup_dir,
            param_sources=param_sources,
            lock_workdir=lock_workdir,
            accept_damaged=accept_damaged,
        )

    def _adopt(self, state: SessionState) -> None:
        """Take over a recorded session (resume): its fold, id, original start and carried variables.

        Its parameter values, edits and the windows already announced are read from the
        fold from now on; values given now for parameters it recorded are set aside.
        """
        self._emitter.adopt(state)
        self.session_id = state.session_id
        self._started = True
        self._record.adopt(state.impact_started_at)
        self._params.adopt(state)
        self._carried.adopt(state, self.warnings)
        self._params.keep_recorded(self.warnings)

    def _attach(self, journal: Journal) -> None:
        """Record into ``journal`` (resume: the journal reopened for appending)."""
        self._emitter.attach(journal)

    # --- internals: the working directory's lock ---------------------------------------

    def _release_worklock(self) -> None:
        if self.worklock is not None:
            self.worklock.release()

    # --- internals: a journal that cannot be written ------------------------------------

    def _stop_unrecorded(self, failure: JournalWriteError) -> None:
        """The journal cannot be written (called on the loop): stop every running step, record nothing more.

        The hang-up path: running steps are cancelled (their process groups stopped), the
        journal ends with them running, so resume marks them interrupted and asks.
        """
        emitter = self._emitter
        if emitter.failure is not None:
            return
        emitter.failure = failure
        emitter.recording = False
        said = (
            f"the journal cannot be written ({failure.strerror}): stopping this step; "
            f"'runbook-tui resume {self.session_id}' continues once that is fixed"
        )
        for step_id in self._executor.running():
            emitter.output(step_id, said, "info")
        self.cancel_all()
        self._clock.cancel()
        # No longer live: once its steps have stopped, 'resume' (in another terminal) may take over.
        loop = emitter.loop
        if loop is not None and loop.is_running():
            self._lock_release = loop.create_task(self._release_when_idle())
        else:
            self._release_worklock()

    async def _release_when_idle(self) -> None:
        await self.wait_idle()
        self._release_worklock()

    async def _raise_journal_failure(self) -> None:
        """Raise the journal's failure, if any, once every step it stopped has stopped."""
        failure = self._emitter.failure
        if failure is not None:
            await self.wait_idle()
            self._release_worklock()
            raise failure

    # --- internals ------------------------------------------------------------------

    def _emit(self, event: ev.Event) -> None:
        self._emitter.emit(event)

    def _require_started(self) -> None:
        if not self._started:
            raise UsageError("the session has not started; call start() first")
        if self._finished:
            raise UsageError("the session has finished")
        if self._emitter.loop is None:
            self._emitter.bind_loop()
        self._ensure_clock()

    def _ensure_clock(self) -> None:
        if not self._finished:
            self._clock.ensure()

    def _lookup(self, step_id: str) -> tuple[Step, Phase]:
        return self._plan.lookup(step_id)


def _procedure(runbook: Runbook, procedure: Procedure | str) -> Procedure:
    if isinstance(procedure, Procedure):
        return procedure
    found = runbook.procedure(procedure)
    if found is None:
        known = ", ".join(p.id for p in runbook.procedures)
        raise UsageError(f"runbook {runbook.id!r} has no procedure {procedure!r} (procedures: {known})")
    return found
