"""The engine: runs a procedure step by step, emits events, and takes the engineer's intents.

Everything that happens becomes an event, delivered in order to the journal, the
state fold and every subscriber. Parameters are asked for right before the first
step that needs them, substituted shell-quoted into commands, and secret values
are redacted from everything emitted. Gates (``confirm``, ``destructive``, every
file edit) ask the :class:`~.asker.Asker` first. Watch steps run in the background.
A clock task warns at 80% of the recovery window and records every breach.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import getpass
import hashlib
import inspect
import logging
import os
import pwd
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from pathlib import Path
from typing import Any

from ... import __version__, locations
from .. import carry, edits, shell_syntax
from .. import events as ev
from .. import params as P
from .. import preflight as pf
from ..ansi import split_display, strip_ansi
from ..asker import Asker, ConfirmRequest, asker_name
from ..edits import PlannedWrite
from ..errors import ParameterError, RunbookTuiError, UsageError
from ..events import Outcome, Phase, StepStatus
from ..journal import (
    DamagedJournal,
    FoldedJournal,
    Journal,
    JournalError,
    JournalWriteError,
    fold_file,
    new_session_id,
)
from ..model import (
    ConfirmSpec,
    HttpSpec,
    Parameter,
    ParameterSource,
    Procedure,
    Runbook,
    ShellSpec,
    Step,
    StepKind,
    WatchSpec,
)
from ..state import EditRecord, SessionState, StateFolder
from ..steps.base import AppliedEdit, StepOutcome, StepRunner
from ..steps.registry import runner_for_step
from ..worklock import WorkLock
from . import windows

log = logging.getLogger(__name__)

Listener = Callable[[ev.Event], None]
WARN_AT = windows.WARN_AT  # share of a window after which the clock warns
TIMEOUT_GRACE = 15.0  # runners enforce step.timeout themselves; this only catches one that does not
CHOICES_TIMEOUT = 30.0
MAX_CHOICES = 1000
_RERUNNABLE = (StepStatus.PENDING, StepStatus.NEEDS_YOU, StepStatus.INTERRUPTED)


def now() -> float:
    """Epoch seconds rounded to the microsecond: exactly what the journal stores, so a reload is equal."""
    return round(time.time() * 1_000_000) / 1_000_000


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


def file_sha256(path: str) -> str:
    """Hex SHA-256 of the runbook file's bytes ("" when it cannot be read)."""
    if not path:
        return ""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


class _Context:
    """The :class:`~.steps.base.StepContext` a runner gets: where, with what, and its output sink."""

    __slots__ = (
        "_emit_line",
        "_emit_lines",
        "_session",
        "_step_id",
        "backup_dir",
        "drill",
        "emit",
        "env",
        "host_results",
        "params",
        "workdir",
    )

    def __init__(self, session: Session, step_id: str, env: Mapping[str, str] | None = None) -> None:
        self.workdir = session.workdir
        self.env: Mapping[str, str] = session.env if env is None else env
        self.drill = session.mode == "drill"
        self.backup_dir = session.backup_dir
        self._step_id = step_id
        self._session = session
        self._emit_line = session._output
        self._emit_lines = session._output_lines
        # Fleet steps (core/fleet.py): per-host events, the parameters for the task's
        # environment, and each host's result so far (a retry runs only the unfinished).
        self.emit: Callable[[ev.Event], None] = session._emit
        self.params: Mapping[str, str] = session._values
        earlier = session.state.step(step_id)
        # Running a passed step again means every host again; otherwise only those not done.
        self.host_results = earlier.hosts if earlier.status is not StepStatus.PASSED else {}

    def output(self, text: str, stream: str = "stdout") -> None:
        self._emit_line(self._step_id, text, stream)

    def output_lines(self, lines: list[str], stream: str = "stdout") -> None:
        self._emit_lines(self._step_id, lines, stream)

    def edit_planned(self, planned: PlannedWrite) -> None:
        """Journal an edit before its file is touched (write-ahead); see ``edits.apply``."""
        self._session._edit_planned(self._step_id, planned)


class Session:
    """One run of one procedure. See ``docs/architecture.md`` (Engine API)."""

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
        watch_limit: float | None = None,
        param_sources: Mapping[str, str] | None = None,
        worklock: WorkLock | None = None,
        roles: Mapping[str, str] | None = None,
    ) -> None:
        self.runbook = runbook
        self.procedure = _procedure(runbook, procedure)
        self.workdir = Path(workdir).resolve()
        self.mode = mode
        self.operator = operator or default_operator()
        self.env: Mapping[str, str] = {**os.environ, **(env or {})}
        self.impact_started_at = impact_started_at
        self._initial_roles = dict(roles or {})  # --role: journalled right after session_started
        self._inbox: Any = None  # core/inbox.py's InboxServer while the session runs
        # Drills cap watch steps (a 5-minute log watch) so a practice run does not wait them out.
        self.watch_limit = watch_limit
        self._ask = ask
        self._journal = journal
        self.session_id = journal.session_id if journal else new_session_id(runbook.id)
        self.backup_dir = backup_dir or locations.backups_dir() / self.session_id
        self._folder = StateFolder()
        self._listeners: list[Listener] = []
        self._redact = P.Redactor()
        self._has_secrets = False  # checked once per output line, so kept as a plain flag
        self._values: dict[str, str] = {}
        # Carried variables (see core/carry.py): value, and the step that set it.
        self._carried: dict[str, str] = {}
        self._carried_by: dict[str, str] = {}
        self._carry_unknown: dict[str, str] = {}  # redacted in the journal: name -> step that set it
        self._capture_lines: dict[str, list[str]] = {}
        self._given: list[tuple[str, str, str]] = []
        for name, value in (params or {}).items():
            source = (param_sources or {}).get(name, param_source)
            self._given.append((name, self._validated(name, value), source))
        self._plan: list[tuple[Step, Phase]] = [
            *((s, Phase.PRECHECK) for s in self.procedure.prechecks),
            *((s, Phase.STEP) for s in self.procedure.steps),
            *((s, Phase.VERIFICATION) for s in self.procedure.verification),
        ]
        self._by_id = {s.id: (s, phase) for s, phase in self._plan}
        self._tasks: dict[str, asyncio.Task[StepStatus]] = {}
        self._recording = True  # False once hung up: events still fold, the journal is left as it was
        self._seq: dict[str, int] = {}
        self._applied: dict[str, list[AppliedEdit]] = {}
        self._tag_choices: list[str] = []
        self._warned: set[str] = set()
        self._breached: set[str] = set()
        self._started_at: float | None = None
        self._started = False
        self._finished = False
        self._outcome: Outcome | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._clock_task: asyncio.Task[None] | None = None
        self._clock_wake: asyncio.Event | None = None
        self.runbook_changed = False
        self.warnings: list[str] = []  # said to the engineer (a changed runbook on resume, ...)
        # Set when the journal cannot be written: no step starts after it (nothing runs unrecorded).
        self.journal_failure: JournalWriteError | None = None
        self._lock_release: asyncio.Task[None] | None = None
        self._watch_journal(journal)
        # The working directory's lock (one live session per workdir): released at finish or close.
        self.worklock = worklock

    # --- reading --------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        """The session so far: a fold over every event emitted (and, on resume, loaded)."""
        return self._folder.state

    @property
    def journal_path(self) -> Path | None:
        return self._journal.path if self._journal else None

    @property
    def outcome(self) -> Outcome | None:
        return self._outcome

    def steps(self) -> list[tuple[Step, Phase]]:
        """Every step in the order it runs: pre-checks, steps, verification."""
        return list(self._plan)

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(event)`` for every event from now on, in order; returns an unsubscribe."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    def redact(self, text: str) -> str:
        """``text`` with every secret value hidden."""
        return self._redact(text) if self._redact else text

    # --- lifecycle --------------------------------------------------------------

    async def start(self) -> None:
        """Emit SessionStarted (and the parameters given up front) and start the clock."""
        self._bind_loop()
        if not self._started:
            self._started = True
            at = now()
            self._started_at = at
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
                    at=at,
                )
            )
            self._record_takeover()
            if self._initial_roles:
                self.set_roles(self._initial_roles)
        for name, value, source in self._given:
            self._record_param(name, value, source)
        self._given.clear()
        self._ensure_clock()
        self._open_inbox()

    async def finish(
        self, *, aborted: bool = False, cancel_background: bool = False, message: str = ""
    ) -> Outcome:
        """Wait for (or cancel) background steps, stop the clock, emit SessionFinished, close the journal."""
        if self._finished and self._outcome is not None:
            return self._outcome
        self._require_started()
        await self._raise_journal_failure()  # never a recorded end after an unrecorded middle
        tasks = list(self._tasks.values())
        if aborted or cancel_background:
            for task in tasks:
                task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._clock_task is not None:
            self._clock_task.cancel()
            await asyncio.gather(self._clock_task, return_exceptions=True)
            self._clock_task = None
        self._check_windows()
        self._close_inbox(drain_first=True)  # notes handed in before the end are journalled before it
        outcome = Outcome.ABORTED if aborted else self._judge()
        assert self._started_at is not None
        at = now()
        self._emit(
            ev.SessionFinished(outcome=outcome.value, duration=at - self._started_at, message=message, at=at)
        )
        self._finished = True
        self._outcome = outcome
        try:
            if self._journal is not None:
                self._journal.close()
        finally:
            self._release_worklock()
        return outcome

    def close(self) -> None:
        """Stop recording without finishing (the engineer left): the session stays open for resume.

        A no-op once finished: what comes after the end (an undo, a note) is still recorded.
        """
        if self._finished:
            return
        self._close_inbox(drain_first=False)  # what waits stays for the next note or resume
        self._recording = False  # cancelled steps finish in memory only; the journal keeps them running
        self.cancel_all()
        if self._clock_task is not None:
            self._clock_task.cancel()
            self._clock_task = None
        try:
            if self._journal is not None:
                self._journal.close()
        finally:
            self._release_worklock()

    def hang_up(self, why: str = "the terminal hung up") -> None:
        """The terminal went away: stop running steps, unrecorded, and leave the session open.

        The journal ends with those steps still running, so resume marks them interrupted
        and the engineer decides whether to run them again; a command left running on its
        own after an SSH drop could otherwise run twice. ``wait_idle`` waits for the stop.
        """
        said = f"{why}: stopping it; 'runbook-tui resume' asks whether to run it again"
        for step_id in list(self._tasks):
            self._output(step_id, said, "info")
        self.close()  # what the stop itself prints and returns is not the step's result

    async def wait_idle(self) -> None:
        """Wait until no step is running (after a cancel or a hang-up, say)."""
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    def _judge(self) -> Outcome:
        state = self.state
        ok = all(state.step(step.id).status.is_ok for step, _ in self._plan)
        return Outcome.SUCCEEDED if ok else Outcome.FAILED

    # --- running ----------------------------------------------------------------

    async def run_step(self, step_id: str) -> StepStatus:
        """Run one step (pre-check, step or verification) and return how it ended; retry = run it again."""
        task = self._spawn(step_id)
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # Whoever awaited us was cancelled (Ctrl-C): stop the step and let it record that.
            task.cancel()
            await asyncio.wait({task})
            raise

    def run_in_background(self, step_id: str) -> asyncio.Task[StepStatus]:
        """Start a step and return at once (watch steps); its StepFinished arrives later."""
        return self._spawn(step_id)

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
        task = self._tasks.get(step_id)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    def cancel_all(self) -> None:
        """Cancel every running step, foreground and background."""
        for step_id in list(self._tasks):
            self.cancel(step_id)

    # --- intents that do not run anything ---------------------------------------

    def skip(self, step_id: str, reason: str) -> None:
        """Skip a step; the reason is required and recorded."""
        self._lookup(step_id)
        if not reason or not reason.strip():
            raise UsageError(f"skipping step {step_id!r} needs a reason; say why it is not needed")
        if step_id in self._tasks:
            raise UsageError(f"step {step_id!r} is running; cancel it before skipping it")
        self._emit(ev.StepSkipped(step_id=step_id, reason=self.redact(reason.strip()), at=now()))

    def note(self, text: str, step_id: str | None = None, *, author: str | None = None) -> None:
        """Add a note to the session (or to one step); ``author`` defaults to the operator."""
        if step_id is not None:
            self._lookup(step_id)
        if not text or not text.strip():
            raise UsageError("a note needs some text")
        self._emit(
            ev.NoteAdded(
                text=self.redact(text.strip()), step_id=step_id, author=author or self.operator, at=now()
            )
        )

    def mark_done(self, step_id: str, note: str) -> None:
        """Declare a step done (an interrupted or manual one) with a note saying how it is known."""
        self._lookup(step_id)
        if not note or not note.strip():
            raise UsageError(f"marking step {step_id!r} done needs a note saying how you know it is done")
        if step_id in self._tasks:
            raise UsageError(f"step {step_id!r} is running; wait for it or cancel it first")
        self._emit(ev.StepMarkedDone(step_id=step_id, note=self.redact(note.strip()), at=now()))

    def undo_edit(self, step_id: str) -> str:
        """Restore the backup of the step's last file edit; returns the restored file's sha256."""
        self._lookup(step_id)
        applied = self._applied.get(step_id)
        if not applied:
            raise UsageError(f"step {step_id!r} has no file edit to undo")
        edit = applied[-1]
        restored = edits.undo(edit)  # EditError (file changed since, backup gone) says what to do
        applied.pop()
        self._emit(ev.EditUndone(step_id=step_id, path=str(edit.path), restored_sha256=restored, at=now()))
        return restored

    def preflight(self) -> tuple[pf.Finding, ...]:
        """What the procedure's shell steps need that is missing here (see :mod:`.preflight`)."""
        return pf.check(self.runbook, self.procedure, env=self.env, workdir=self.workdir)

    def record_preflight(self, findings: Iterable[pf.Finding], *, accepted: bool, by: str) -> None:
        """Journal that the pre-flight's findings were shown, and whether the run goes on."""
        self._require_started()
        lines = tuple(self.redact(line) for line in pf.describe(findings))
        self._emit(ev.PreflightChecked(findings=lines, accepted=accepted, by=by, at=now()))

    def record_plan(self, lines: Iterable[str], unplanned: Iterable[str], *, by: str) -> None:
        """Journal the plan that was shown before the run (see :mod:`.plan`)."""
        self._require_started()
        self._emit(
            ev.PlanReviewed(
                lines=tuple(self.redact(line) for line in lines),
                unplanned=tuple(self.redact(line) for line in unplanned),
                by=by,
                at=now(),
            )
        )

    def run_from(self, step_id: str, by: str | None = None) -> tuple[list[str], list[str]]:
        """Run again from ``step_id``: earlier steps not done are skipped over, later ones run again.

        Journalled (``run_from``) with who chose it; returns (skipped, to run again).
        Needs no running event loop: ``resume --from`` records it before the run starts.
        """
        if not self._started or self._finished:
            raise UsageError("run from a step needs a session that has started and not finished")
        self._lookup(step_id)
        if self._tasks:
            raise UsageError(
                f"step(s) {', '.join(self._tasks)} are running; wait for them or cancel them first"
            )
        ids = [s.id for s, _ in self._plan]
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
                step_id=step_id, attempt=self._attempt(step_id), by=by or self.operator, at=now()
            )
        )
        return await self.run_step(step.id)

    def param_values(self) -> dict[str, str]:
        """The parameter values known so far, secrets included (for :mod:`.plan`, which masks them)."""
        return dict(self._values)

    def carried_used(self, step_id: str) -> list[tuple[str, str, str]]:
        """Carried variables the step reads: (name, value as shown, step that set it)."""
        step, _phase = self._lookup(step_id)
        if not isinstance(step.spec, ShellSpec | WatchSpec) or not self._carried_by:
            return []
        try:
            read = [v.name for v in shell_syntax.unassigned_variables(P.shell_command(step.spec.command))]
        except Exception:
            return []
        return [
            (n, self.redact(self._carried.get(n, P.REDACTED)), self._carried_by[n])
            for n in dict.fromkeys(read)
            if n in self._carried_by
        ]

    def set_param(self, name: str, value: str | None, source: str = "prompt") -> str:
        """Validate and record a parameter value (redacted in events if secret); returns the value used."""
        validated = self._validated(name, value)
        self._record_param(name, validated, source if value else "default")
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
        if self._clock_wake is not None:
            self._clock_wake.set()

    def tick(self, checklist_id: str, item: int, done: bool = True) -> None:
        """Tick (or untick) item ``item`` (0-based) of a checklist."""
        checklist = next((c for c in self.runbook.checklists if c.id == checklist_id), None)
        if checklist is None or not 0 <= item < len(checklist.items):
            raise UsageError(f"no item {item} in checklist {checklist_id!r}")
        self._emit(ev.ChecklistTicked(checklist_id=checklist_id, item=item, done=done, at=now()))

    def fill_template(self, template_id: str, text: str) -> None:
        """Save a filled communication template into the session (secrets redacted)."""
        self._emit(ev.TemplateFilled(template_id=template_id, text=self.redact(text), at=now()))

    # --- the session as evidence (issue 17) ---------------------------------------

    def set_impact_started(self, at: float, source: str = "engineer") -> None:
        """Record (or correct) when impact started; the report's metrics run from it, windows do not."""
        if at > now() + 1:
            raise UsageError("impact cannot have started in the future")
        self.impact_started_at = at
        self._emit(ev.ImpactStartedSet(impact_started_at=at, source=source, by=self.operator, at=now()))

    def add_action_item(
        self, text: str, owner: str, due: str = "", step_id: str | None = None, *, author: str | None = None
    ) -> None:
        """Record a follow-up with an owner (and a due date, YYYY-MM-DD)."""
        from ..evidence import check_text, parse_due

        if step_id is not None:
            self._lookup(step_id)
        item = ev.ActionItemAdded(
            text=self.redact(check_text(text, "an action item")),
            owner=check_text(owner, "an action item's owner"),
            due=parse_due(due),
            author=author or self.operator,
            step_id=step_id,
            at=now(),
        )
        self._emit(item)

    def set_roles(self, roles: Mapping[str, str]) -> None:
        """Record who holds which role (the whole set as it is now)."""
        merged = {**dict(self.state.roles), **{k: v for k, v in roles.items() if v}}
        self._emit(ev.RolesSet(roles=merged, by=self.operator, at=now()))

    def handoff(self, to_operator: str, reason: str = "handoff") -> None:
        """The session passes to ``to_operator``: journalled with what is running at that moment."""
        from ..evidence import check_text

        to = check_text(to_operator, "the operator taking over")
        before = self.state.current_operator or self.operator
        self._emit(
            ev.Handoff(
                from_operator=before, to_operator=to, reason=reason, running=self.state.running(), at=now()
            )
        )
        self.operator = to

    def _open_inbox(self) -> None:
        """Take notes handed in by ``runbook-tui note`` while this session runs (core/inbox.py)."""
        if self._journal is None or self._inbox is not None:
            return
        from ..inbox import InboxServer, deliver_to

        inbox = InboxServer(self._journal.path, deliver_to(self))
        try:
            inbox.drain()  # left by a session that died with items waiting
            inbox.start()
        except OSError as exc:
            # Notes can still be appended after the session ends; the run itself goes on.
            self.warnings.append(
                f"{exc.filename or self._journal.path}: cannot take handed-in notes ({exc.strerror}); "
                "do not use 'runbook-tui note' on this session until it ends"
            )
            return
        self._inbox = inbox

    def _close_inbox(self, *, drain_first: bool) -> None:
        if self._inbox is not None:
            self._inbox.stop(drain_first=drain_first)
            self._inbox = None

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
        another live session there is a :class:`~.worklock.WorkdirLocked` refusal, and
        nothing is written to the journal.

        A damaged line before the journal's end (not a torn last line) is a
        :class:`~.journal.DamagedJournal` refusal naming the line and its step, unless
        ``accept_damaged``: then each acceptance is journalled (``damaged_line_accepted``)
        and the step it belongs to, unless recorded as done, is marked interrupted so the
        engineer decides whether it runs again: never silently.
        """
        # Folded as it streams, once: the state keeps each step's tail, never every event.
        loaded = fold_file(journal_path)
        state = loaded.state
        if state.started_at is None:
            raise JournalError(
                f"{journal_path}: the session never started (no session_started); nothing to resume"
            )
        if state.finished:
            raise UsageError(
                f"session {state.session_id} already finished ({state.outcome}); "
                f"see `runbook-tui report {state.session_id}`"
            )
        damaged = loaded.unaccepted
        if damaged and not accept_damaged:
            raise DamagedJournal(_damaged_message(loaded, Path(journal_path)), damaged)
        procedure = runbook.procedure(state.procedure_id)
        if procedure is None:
            raise UsageError(
                f"{runbook.path or runbook.id}: the runbook no longer has procedure {state.procedure_id!r}; "
                "open the version the session was started with"
            )
        session = cls(
            runbook,
            procedure,
            workdir=workdir or Path(state.workdir or "."),
            ask=ask,
            mode=state.mode or "live",
            params=params,
            operator=operator,
            env=env,
            backup_dir=backup_dir or locations.backups_dir() / state.session_id,
            param_sources=param_sources,
        )
        session._adopt(state)
        session._keep_recorded_params()
        if lock_workdir:
            session.worklock = WorkLock.acquire(session.workdir, state.session_id, session.operator)
        try:
            # Before anything is written, and under the lock: a planned edit with no result may refuse.
            unfinished_edits = _reconcile_edits(state)
            session._journal = Journal.open_existing(Path(journal_path))  # reads its head and last line only
        except BaseException:
            session._release_worklock()
            raise
        session._watch_journal(session._journal)
        session._record_reconciled(unfinished_edits)
        current = file_sha256(runbook.path)
        session.runbook_changed = bool(state.runbook_sha256 and current and current != state.runbook_sha256)
        if session.runbook_changed:
            session.warnings.append(
                f"{runbook.path}: the runbook changed since the session started "
                f"(sha256 {state.runbook_sha256[:12]} then, {current[:12]} now)"
            )
        if loaded.torn_tail:
            session.warnings.append("the journal's last line was cut off by the crash; it was set aside")
        running = state.running()
        for step_id in running:
            session._emit(ev.StepInterrupted(step_id=step_id, attempt=state.step(step_id).attempts, at=now()))
        if damaged:
            session._accept_damaged(damaged, running)
        session._emit(
            ev.SessionResumed(
                operator=session.operator,
                torn_tail=loaded.torn_tail,
                runbook_changed=session.runbook_changed,
                at=now(),
            )
        )
        session._record_takeover()
        if session.journal_failure is not None:
            # Still no room (say): nothing of this resume is recorded, so nothing may go on.
            session.close()
            raise session.journal_failure
        if state.current_operator and session.operator != state.current_operator:
            session.handoff(session.operator, reason="resume")  # someone else picked it up
        return session

    def _record_reconciled(self, found: list[tuple[str, EditRecord, str, str]]) -> None:
        """Journal what each planned edit without a result turned out to be; an applied one can be undone."""
        for step_id, record, outcome, digest in found:
            self._emit(
                ev.EditReconciled(step_id=step_id, path=record.path, found=outcome, sha256=digest, at=now())
            )
            if outcome == "not_applied":
                self.warnings.append(
                    f"{record.path}: the edit of step {step_id!r} was planned but never written; "
                    "the step is still to do"
                )
            if outcome != "applied":
                continue
            self.warnings.append(
                f"{record.path}: the edit of step {step_id!r} was written but its result was never "
                f"journalled; recorded it now (backup {record.backup}, undo is possible)"
            )
            self._applied.setdefault(step_id, []).append(
                AppliedEdit(
                    Path(record.path),
                    Path(record.backup),
                    record.diff,
                    record.before_sha256,
                    record.after_sha256,
                )
            )
            self._emit(
                ev.FileEdited(
                    step_id=step_id,
                    path=record.path,
                    backup=record.backup,
                    diff=record.diff,
                    before_sha256=record.before_sha256,
                    after_sha256=record.after_sha256,
                    at=now(),
                )
            )

    def _edit_planned(self, step_id: str, planned: PlannedWrite) -> None:
        self._emit(
            ev.EditPlanned(
                step_id=step_id,
                path=str(planned.path),
                backup=str(planned.backup),
                diff=self.redact(planned.diff),
                before_sha256=planned.before_sha256,
                after_sha256=planned.after_sha256,
                at=now(),
            )
        )

    def _adopt(self, state: SessionState) -> None:
        """Take over a recorded session: its id, original start, steps, edits and clock."""
        self._folder = StateFolder(state)
        self.session_id = state.session_id
        self._started = True
        self._started_at = state.started_at
        self.impact_started_at = state.impact_started_at
        self._warned = {w.scope for w in state.warnings}
        self._breached = {b.scope for b in state.breaches}
        for step_id in state.step_order:
            step = state.steps[step_id]
            self._seq[step_id] = step.last_seq
            self._applied[step_id] = [
                AppliedEdit(Path(e.path), Path(e.backup), e.diff, e.before_sha256, e.after_sha256)
                for e in step.edits
                if not e.undone
            ]
            tags = step.data.get("tags")
            if isinstance(tags, list):
                self._tag_choices = [str(t) for t in tags]
        for name, value in state.params.items():
            if name not in state.secret_params and self.runbook.parameter(name) is not None:
                self._values[name] = value  # secret values were never written: asked again when needed
        for name, carried_event in state.carried.items():
            self._carried_by[name] = carried_event.step_id
            if carried_event.redacted:
                self._carry_unknown[name] = carried_event.step_id  # asked again when a step reads it
                self.warnings.append(
                    f"variable {name} (set by step {carried_event.step_id}) was not journalled (a secret); "
                    "it is asked for again when a later step uses it"
                )
            else:
                self._carried[name] = carried_event.value

    def _keep_recorded_params(self) -> None:
        """Drop given values for parameters the journal already has (warning when they differ)."""
        kept: list[tuple[str, str, str]] = []
        for name, value, source in self._given:
            recorded = self._values.get(name)
            if recorded is None:
                kept.append((name, value, source))
            elif recorded != value:
                self.warnings.append(
                    f"parameter {name} stays {recorded!r} as recorded; "
                    f"the {source} value given now is not used"
                )
        self._given = kept

    def _accept_damaged(self, damaged: Iterable[Any], running: Iterable[str]) -> None:
        """Journal each accepted damaged line; its step, unless done, is interrupted (asked about)."""
        asked = set(running)
        for line in damaged:
            accepted = ev.DamagedLineAccepted(
                line=line.number, step_id=line.step_id, operator=self.operator, at=now()
            )
            self._emit(accepted)
            step_id = line.step_id
            if not step_id or step_id in asked or step_id not in self._by_id:
                continue
            step = self.state.step(step_id)
            if step.status.is_ok:
                continue  # recorded as done by the lines that can be read
            asked.add(step_id)
            self._emit(ev.StepInterrupted(step_id=step_id, attempt=step.attempts, at=now()))
        self.warnings.append(
            "resumed past damaged journal line(s) "
            + ", ".join(f"{d.number}" + (f" (step {d.step_id})" if d.step_id else "") for d in damaged)
            + "; the acceptance is recorded in the journal"
        )

    # --- internals: the working directory's lock ---------------------------------------

    def _record_takeover(self) -> None:
        """Journal that a stale lock (its process gone) was taken over, naming the old holder."""
        lock = self.worklock
        old = lock.taken_over if lock is not None else None
        if lock is None or old is None:
            return
        self._emit(
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

    def _release_worklock(self) -> None:
        if self.worklock is not None:
            self.worklock.release()

    # --- internals: a journal that cannot be written ------------------------------------

    def _watch_journal(self, journal: Journal | None) -> None:
        if journal is not None:
            journal.on_failure = self._journal_failed

    def _journal_failed(self, failure: JournalWriteError) -> None:
        """The journal cannot be written (any thread): stop every running step, record nothing more.

        The hang-up path: running steps are cancelled (their process groups stopped), the
        journal ends with them running, so resume marks them interrupted and asks.
        """
        loop = self._loop
        if loop is not None and self._loop_thread != threading.get_ident() and not loop.is_closed():
            loop.call_soon_threadsafe(self._stop_unrecorded, failure)
        else:
            self._stop_unrecorded(failure)

    def _stop_unrecorded(self, failure: JournalWriteError) -> None:
        if self.journal_failure is not None:
            return
        self.journal_failure = failure
        self._recording = False
        said = (
            f"the journal cannot be written ({failure.strerror}): stopping this step; "
            f"'runbook-tui resume {self.session_id}' continues once that is fixed"
        )
        for step_id in list(self._tasks):
            self._output(step_id, said, "info")
        self.cancel_all()
        if self._clock_task is not None:
            self._clock_task.cancel()
            self._clock_task = None
        # No longer live: once its steps have stopped, 'resume' (in another terminal) may take over.
        loop = self._loop
        if loop is not None and loop.is_running():
            self._lock_release = loop.create_task(self._release_when_idle())
        else:
            self._release_worklock()

    async def _release_when_idle(self) -> None:
        await self.wait_idle()
        self._release_worklock()

    async def _raise_journal_failure(self) -> None:
        """Raise the journal's failure, if any, once every step it stopped has stopped."""
        if self.journal_failure is not None:
            await self.wait_idle()
            self._release_worklock()
            raise self.journal_failure

    # --- internals: events ----------------------------------------------------------

    def _emit(self, event: ev.Event) -> None:
        if self._journal is not None and self._recording:
            try:
                if self._journal.closed and self._finished:
                    # Undo, notes and checklist ticks go on after the end; each reopens the journal.
                    with self._journal.reopen() as journal:
                        journal.append(event)
                else:
                    self._journal.append(event)
            except JournalWriteError as exc:
                # Not raised here (a view calling note() must not crash): folded, unrecorded;
                # the run stops before the next step (run_all, _execute, finish raise it).
                self._journal_failed(exc)
        self._folder.apply(event)
        for callback in self._listeners if len(self._listeners) < 2 else list(self._listeners):
            try:
                callback(event)
            except Exception:  # a broken view must not stop a rollback half-way
                log.exception("a session listener failed on %s", event.kind)

    def _output(self, step_id: str, line: str, stream: str) -> None:
        self._output_lines(step_id, [line], stream)

    def _output_lines(self, step_id: str, lines: list[str], stream: str) -> None:
        """Lines that arrived together: one clock reading, one journal write, one fold step."""
        if not lines:
            return
        if self._loop is not None and threading.get_ident() != self._loop_thread:
            self._loop.call_soon_threadsafe(self._output_lines, step_id, list(lines), stream)
            return
        first = self._seq.get(step_id, 0) + 1
        self._seq[step_id] = first + len(lines) - 1
        texts, colours = self._clean_lines(lines)
        capturing = self._capture_lines.get(step_id) if self._capture_lines else None
        if capturing is not None and stream != "info":
            capturing.extend(texts)
            del capturing[: -carry.MAX_CAPTURE_LINES]
        events = _output_events(step_id, first, stream, texts, colours, now())
        journal = self._journal
        if journal is not None and journal.closed and self._finished:
            for event in events:  # after the end: each reopens the journal (rare, never a flood)
                self._emit(event)
            return
        if journal is not None and self._recording:
            journal.append_output(events)
        self._folder.apply_output(events)
        listeners = self._listeners if len(self._listeners) < 2 else list(self._listeners)
        for event in events:
            for callback in listeners:
                try:
                    callback(event)
                except Exception:  # a broken view must not stop a rollback half-way
                    log.exception("a session listener failed on %s", event.kind)

    def _clean_lines(self, lines: list[str]) -> tuple[list[str], list[str]]:
        """The lines ANSI-stripped and redacted, and each line's coloured form ("" when plain)."""
        raw = "\n".join(lines)  # one scan of the chunk tells whether any line needs the work
        texts, colours = split_display(lines, raw)  # the display form carries only SGR colour
        joined = raw if texts is lines else "\n".join(texts)
        if self._has_secrets and self._holds_secret(joined, raw):
            redact = self._redact
            texts = [redact(text) for text in texts]
            colours = [redact(c) if c else "" for c in colours]
        return texts, colours

    def _holds_secret(self, joined: str, raw: str) -> bool:
        # Every line is part of the joined chunk: where the chunk holds no secret, no line does.
        redact = self._redact
        return redact(joined) is not joined or (raw is not joined and redact(raw) is not raw)

    def _bind_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()

    def _require_started(self) -> None:
        if not self._started:
            raise UsageError("the session has not started; call start() first")
        if self._finished:
            raise UsageError("the session has finished")
        if self._loop is None:
            self._bind_loop()
        self._ensure_clock()

    def _lookup(self, step_id: str) -> tuple[Step, Phase]:
        try:
            return self._by_id[step_id]
        except KeyError:
            known = ", ".join(self._by_id)
            raise UsageError(
                f"procedure {self.procedure.id!r} has no step {step_id!r} (steps: {known})"
            ) from None

    # --- internals: parameters ------------------------------------------------------

    def _validated(self, name: str, value: str | None, choices: Iterable[str] = ()) -> str:
        param = self.runbook.parameter(name)
        if param is None:
            return check_params(self.runbook, {name: value or ""})[name]  # raises: not declared
        return P.validate(param, value, choices=choices)

    def _record_param(self, name: str, value: str, source: str) -> None:
        param = self.runbook.parameter(name)
        secret = bool(param and param.secret)
        if secret:
            self._redact.add(value)
            self._has_secrets = bool(self._redact)
        self._values[name] = value
        shown = P.REDACTED if secret and value else value
        self._emit(ev.ParameterSet(name=name, value=shown, secret=secret, source=source, at=now()))

    async def _resolve_params(self, step: Step) -> None:
        """Ask for every parameter the step uses that has no value yet; ParameterError if one fails."""
        for name in self._names_used(step):
            if name in self._values:
                continue
            param = self.runbook.parameter(name)
            if param is None:
                raise ParameterError(name, f"is used by step {step.id!r} but the runbook does not declare it")
            choices = await self._choices(param, step.id)
            answer = await self._ask.parameter(param, choices)
            value = P.validate(param, answer, choices=choices)
            source = "prompt" if answer else "default"
            if answer and answer in choices and answer not in param.choices:
                source = "choices"
            self._record_param(name, value, source)

    def _names_used(self, step: Step) -> list[str]:
        """Its placeholders, and declared parameters its shell command reads as ``$name``."""
        names = _step_placeholders(step)
        if isinstance(step.spec, ShellSpec | WatchSpec):
            read = (v.name for v in shell_syntax.unassigned_variables(step.spec.command))
            names += [n for n in read if self.runbook.parameter(n) is not None and n not in names]
        return names

    async def _choices(self, param: Parameter, step_id: str) -> list[str]:
        found: list[str] = list(param.choices)
        if param.choices_from is not None:
            try:
                found += await self._load_choices(param)
            except Exception as exc:  # offered values are a help; validation still applies
                self._output(step_id, f"could not list choices for {param.name}: {exc}", "info")
        found += self._tag_choices
        return list(dict.fromkeys(c for c in found if c))

    async def _load_choices(self, param: Parameter) -> list[str]:
        source = param.choices_from
        assert source is not None
        if source.source is ParameterSource.GIT_TAGS:
            from ..steps.git import list_git_tags

            return await list_git_tags(self.workdir / source.value, self.env)
        if source.source is ParameterSource.DOCKER_TAGS:
            from ..steps import docker

            lister: Any = docker.list_image_tags
            if inspect.iscoroutinefunction(lister):
                result = await lister(source.value, self.env, docker_host=source.docker_host)
            else:  # the docker SDK blocks: keep it off the event loop
                result = await asyncio.to_thread(
                    lister, source.value, self.env, docker_host=source.docker_host
                )
            return [str(t) for t in result]
        return await self._command_lines(source.value)

    async def _command_lines(self, command: str) -> list[str]:
        from ..steps.shell import run_command

        lines: list[str] = []

        def keep(text: str, stream: str) -> None:
            if stream == "stdout" and text.strip() and len(lines) < MAX_CHOICES:
                lines.append(strip_ansi(text).strip())

        result = await run_command(
            command, cwd=self.workdir, env=self.env, on_line=keep, timeout=CHOICES_TIMEOUT
        )
        if not result.ok:
            raise RunbookTuiError(f"`{command}` {result.describe(CHOICES_TIMEOUT)}")
        return lines

    # What RUNS and what is SHOWN are two renderings of a step, never one:
    # - _runnable: shell commands keep variable references ("${tag}") and the values travel
    #   in the environment (_step_env); URLs get their values percent-encoded.
    # - _display: the values spliced in for a reader (titles, confirmations, the journal's
    #   `command`), secret values masked.

    def _runnable(self, step: Step) -> Step:
        """The step as it runs: no value is ever spliced into shell text."""
        return fill_step(step, self._values, runnable=True)

    def _display(self, step: Step) -> Step:
        """The step as shown and journalled: values in place for reading, secrets masked."""
        return display_step(self.runbook, step, self._values)

    def _step_env(self, step: Step) -> Mapping[str, str] | None:
        """The environment a shell or watch step runs with (see docs: parameter precedence).

        Process env < carried variables (when they exist) < the step's ``env:`` and the
        parameters. The step's ``env:`` is laid on top by the runner (``step_env``); the
        loader refuses an ``env:`` key that is also a parameter name, so a parameter is
        never overridden, silently or otherwise.
        """
        if not isinstance(step.spec, ShellSpec | WatchSpec):
            return None
        return {**self.env, **self._carried, **self._values}

    def _is_secret(self, name: str) -> bool:
        param = self.runbook.parameter(name)
        return bool(param and param.secret)

    # --- internals: one step --------------------------------------------------------

    def _spawn(self, step_id: str) -> asyncio.Task[StepStatus]:
        self._require_started()
        step, phase = self._lookup(step_id)
        if step_id in self._tasks:
            raise UsageError(f"step {step_id!r} is already running")
        task = asyncio.get_running_loop().create_task(self._execute(step, phase), name=f"step:{step_id}")
        self._tasks[step_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(step_id, None))
        return task

    def _attempt(self, step_id: str) -> int:
        return self.state.step(step_id).attempts + 1

    def _fail_before_start(self, step: Step, message: str) -> StepStatus:
        self._emit(
            ev.StepFinished(
                step_id=step.id,
                status=StepStatus.FAILED.value,
                duration=0.0,
                message=self.redact(message),
                attempt=self._attempt(step.id),
                at=now(),
            )
        )
        return StepStatus.FAILED

    async def _execute(self, step: Step, phase: Phase) -> StepStatus:
        if self.journal_failure is not None:
            raise self.journal_failure
        try:
            await self._resolve_params(step)
            await self._ask_carried(step)
            rendered = self._runnable(step)
        except ParameterError as exc:
            return self._fail_before_start(step, str(exc))
        if step.kind is StepKind.CONFIRM:
            return await self._confirm_step(step, rendered, phase)
        if step.kind is StepKind.MANUAL:
            return await self._manual_step(step, rendered, phase)
        try:
            runner = runner_for_step(step)
        except RunbookTuiError as exc:
            return self._fail_before_start(step, str(exc))
        ctx = _Context(self, step.id, self._step_env(step))
        preflight = getattr(runner, "preflight", None)  # fleet steps: hosts resolved and capped
        if preflight is not None:
            try:
                await preflight(rendered, ctx)
            except RunbookTuiError as exc:
                return self._fail_before_start(step, str(exc))
        gate = await self._gate_for(step, rendered, runner, ctx)
        if isinstance(gate, StepStatus):
            return gate
        if gate is not None and not await self._gate(step, *gate):
            return StepStatus.NEEDS_YOU
        return await self._run_runner(step, rendered, phase, runner, ctx)

    async def _gate_for(
        self, step: Step, rendered: Step, runner: StepRunner, ctx: _Context
    ) -> tuple[str, str | None] | StepStatus | None:
        """The gate's message and diff, None for no gate, or FAILED when the edit cannot be planned."""
        display = self._display(step)
        if step.is_edit:
            try:
                edit = await asyncio.to_thread(runner.plan_edit, rendered, ctx)
            except Exception as exc:
                return self._fail_before_start(step, f"cannot plan the edit: {exc}")
            if edit is None and not (step.confirm or step.destructive):
                return None  # the file already is as wanted: nothing will be written
            summary = edit.summary if edit else self._describe(runner, display)
            return self.redact(display.confirm or summary), self.redact(edit.diff) if edit else None
        if display.confirm:
            return self.redact(display.confirm), None
        if step.destructive:
            return self.redact(f"{step.title} is destructive: {self._describe(runner, display)}"), None
        return None

    async def _gate(self, step: Step, message: str, diff: str | None) -> bool:
        display = self._display(step)
        ok = await self._ask.confirm(ConfirmRequest(display, message, diff))
        if ok:
            self._emit(
                ev.ConfirmationGiven(step_id=step.id, message=message, by=asker_name(self._ask), at=now())
            )
        else:
            self._emit(ev.ConfirmationDeclined(step_id=step.id, message=message, at=now()))
        return bool(ok)

    def _started_event(self, step: Step, phase: Phase, command: str) -> tuple[int, float]:
        attempt = self._attempt(step.id)
        at = now()
        self._emit(
            ev.StepStarted(
                step_id=step.id,
                title=self.redact(self._display(step).title),
                step_kind=step.kind.value,
                phase=phase.value,
                attempt=attempt,
                command=self.redact(command),
                role=step.role or "",
                at=at,
            )
        )
        return attempt, at

    def _finished_event(self, step: Step, attempt: int, started: float, outcome: StepOutcome) -> StepStatus:
        if outcome.edit is not None:
            edit = outcome.edit
            self._applied.setdefault(step.id, []).append(edit)
            self._emit(
                ev.FileEdited(
                    step_id=step.id,
                    path=str(edit.path),
                    backup=str(edit.backup),
                    diff=self.redact(edit.diff),
                    before_sha256=edit.before_sha256,
                    after_sha256=edit.after_sha256,
                    at=now(),
                )
            )
        if self.state.step(step.id).planned_edits:
            # The runner failed between journalling an edit and reporting it: ask the file.
            outcome = self._settle_planned_edits(step.id, outcome)
        data = _plain_data(outcome.data, self.redact)
        at = now()
        self._emit(
            ev.StepFinished(
                step_id=step.id,
                status=outcome.status.value,
                duration=round(at - started, 6),
                message=self.redact(outcome.message),
                exit_code=outcome.exit_code,
                attempt=attempt,
                data=data,
                at=at,
            )
        )
        tags = data.get("tags")
        if isinstance(tags, list) and outcome.status is StepStatus.PASSED:
            self._tag_choices = [str(t) for t in tags]
        if outcome.status is StepStatus.PASSED and step.milestone is not None:
            self._emit(ev.MilestoneReached(milestone=step.milestone.value, step_id=step.id, at=now()))
        return outcome.status

    def _settle_planned_edits(self, step_id: str, outcome: StepOutcome) -> StepOutcome:
        """Record what became of planned edits the runner did not report; a changed file fails the step."""
        found: list[tuple[str, EditRecord, str, str]] = []
        for record in self.state.step(step_id).planned_edits:
            try:
                result, digest = edits.reconcile(Path(record.path), record.before_sha256, record.after_sha256)
            except edits.EditError as exc:
                result, digest = "changed", ""
                self._output(step_id, str(exc), "stderr")
            found.append((step_id, record, result, digest))
            if result == "changed":
                outcome = StepOutcome.failed(_changed_message(step_id, record, digest))
        self._record_reconciled(found)
        return outcome

    async def _confirm_step(self, step: Step, rendered: Step, phase: Phase) -> StepStatus:
        spec = rendered.spec
        message = spec.message if isinstance(spec, ConfirmSpec) else step.title
        display_spec = self._display(step).spec
        shown = display_spec.message if isinstance(display_spec, ConfirmSpec) else message
        if not await self._gate(step, self.redact(shown), None):
            return StepStatus.NEEDS_YOU
        attempt, started = self._started_event(step, phase, shown)
        by = asker_name(self._ask)
        return self._finished_event(step, attempt, started, StepOutcome.passed(f"confirmed by {by}"))

    async def _manual_step(self, step: Step, rendered: Step, phase: Phase) -> StepStatus:
        attempt, started = self._started_event(step, phase, "manual")
        try:
            answer = await self._ask.manual(self._display(step))
        except asyncio.CancelledError:
            self._finished_event(step, attempt, started, StepOutcome(StepStatus.CANCELLED, "cancelled"))
            return StepStatus.CANCELLED
        if answer.note:
            author = self.operator if asker_name(self._ask) == "engineer" else asker_name(self._ask)
            self._emit(ev.NoteAdded(text=self.redact(answer.note), step_id=step.id, author=author, at=now()))
        if not answer.done:
            return self._finished_event(
                step, attempt, started, StepOutcome(StepStatus.NEEDS_YOU, "not done yet")
            )
        by = asker_name(self._ask)
        if by == "engineer":
            return self._finished_event(step, attempt, started, StepOutcome.passed("done"))
        # Nobody was there to do it: ticked, never "passed" (see StepStatus.TICKED).
        outcome = StepOutcome(StepStatus.TICKED, f"ticked by {by}; nobody did it")
        return self._finished_event(step, attempt, started, outcome)

    def _describe(self, runner: StepRunner, step: Step) -> str:
        try:
            return runner.describe(step)
        except Exception:
            return step.title

    async def _run_runner(
        self, step: Step, rendered: Step, phase: Phase, runner: StepRunner, ctx: _Context
    ) -> StepStatus:
        command = self._describe(runner, self._display(step))
        attempt, started = self._started_event(step, phase, command)
        if self.journal_failure is not None:
            raise self.journal_failure  # its start could not be recorded: it must not run
        rendered = self._capped_watch(rendered, ctx)
        rendered, carry_file = self._with_carry(rendered, ctx)
        if step.capture is not None:
            self._capture_lines[step.id] = []
        limit = step.timeout + TIMEOUT_GRACE if step.timeout else None
        try:
            async with asyncio.timeout(limit):
                outcome = await runner.run(rendered, ctx)
        except asyncio.CancelledError:
            why = "the journal cannot be written" if self.journal_failure else "the engineer"
            outcome = StepOutcome(StepStatus.CANCELLED, f"cancelled by {why}")
        except TimeoutError:
            outcome = StepOutcome.failed(f"timed out after {step.timeout:g}s")
        except RunbookTuiError as exc:
            outcome = StepOutcome.failed(str(exc))
        except Exception as exc:
            log.exception("step %s failed inside runbook-tui", step.id)
            outcome = StepOutcome.failed(f"{type(exc).__name__}: {exc} (an error inside runbook-tui)")
        if carry_file is not None:
            found = carry.read_file(carry_file)
            if outcome.status is StepStatus.PASSED:  # a failed step's half-done values do not carry
                self._take_carried(step, carry.changed(found, ctx.env))
        captured = self._capture_lines.pop(step.id, None)
        if step.capture is not None and captured is not None and outcome.status is StepStatus.PASSED:
            outcome = self._take_capture(step, captured, outcome)
        return self._finished_event(step, attempt, started, outcome)

    # --- internals: carried variables and captures (see core/carry.py) -------------------

    def _with_carry(self, step: Step, ctx: _Context) -> tuple[Step, Path | None]:
        """A shell step's command with the EXIT trap that reports its top-level assignments."""
        spec = step.spec
        if not isinstance(spec, ShellSpec):
            return step, None
        names = carry.carried_names(spec.command, exclude={p.name for p in self.runbook.parameters})
        if not names:
            return step, None
        if carry.sets_exit_trap(spec.command):
            ctx.output(
                "this step sets its own EXIT trap: its variables are not carried to later steps", "info"
            )
            return step, None
        path = carry.new_file()
        ctx.env = {**ctx.env, carry.CARRY_ENV: str(path)}
        wrapped = dataclasses.replace(spec, command=carry.wrap(spec.command, names))
        return dataclasses.replace(step, spec=wrapped), path

    def _take_carried(self, step: Step, found: Mapping[str, str]) -> None:
        for name, value in found.items():
            secret = carry.secret_looking(name) or (bool(value) and self.redact(value) != value)
            if secret and value:
                self._redact.add(value)
                self._has_secrets = bool(self._redact)
            self._carried[name] = value
            self._carried_by[name] = step.id
            self._carry_unknown.pop(name, None)
            shown = P.REDACTED if secret and value else value
            self._emit(ev.VariableCarried(name=name, value=shown, step_id=step.id, redacted=secret, at=now()))

    async def _ask_carried(self, step: Step) -> None:
        """A carried secret the journal does not hold (after resume): ask for it before a step reads it."""
        if not self._carry_unknown or not isinstance(step.spec, ShellSpec | WatchSpec):
            return
        read = {v.name for v in shell_syntax.unassigned_variables(P.shell_command(step.spec.command))}
        for name in [n for n in self._carry_unknown if n in read]:
            by = self._carry_unknown[name]
            param = Parameter(
                name=name,
                description=f"set by step {by} before the resume; its value was not journalled (a secret)",
                secret=True,
            )
            answer = await self._ask.parameter(param, [])
            if not answer:
                raise ParameterError(
                    name, f"was set by step {by} and not journalled; give it again, or run from step {by}"
                )
            self._redact.add(answer)
            self._has_secrets = bool(self._redact)
            self._carried[name] = answer
            del self._carry_unknown[name]

    def _take_capture(self, step: Step, lines: list[str], outcome: StepOutcome) -> StepOutcome:
        spec = step.capture
        assert spec is not None
        found = carry.capture(spec, lines)
        if found.value is None:
            self._output(step.id, found.problem, "stderr")
            return StepOutcome.failed(found.problem, **outcome.data)
        try:
            value = self._validated(spec.name, found.value)
        except ParameterError as exc:
            problem = f"capture {spec.name}: {exc}"
            self._output(step.id, problem, "stderr")
            return StepOutcome.failed(problem, **outcome.data)
        self._record_param(spec.name, value, f"capture:{step.id}")
        return outcome

    def _capped_watch(self, step: Step, ctx: _Context) -> Step:
        spec = step.spec
        limit = self.watch_limit
        if not isinstance(spec, WatchSpec) or limit is None or spec.duration <= limit:
            return step
        ctx.output(
            f"drill: watching for {limit:g}s instead of {spec.duration:g}s (the drill's watch_limit)", "info"
        )
        return dataclasses.replace(step, spec=dataclasses.replace(spec, duration=limit))

    # --- internals: the clock -------------------------------------------------------

    def _ensure_clock(self) -> None:
        if self._clock_task is None and not self._finished and self._windows_defined():
            self._clock_wake = asyncio.Event()
            self._clock_task = asyncio.get_running_loop().create_task(self._clock(), name="session-clock")

    def _windows_defined(self) -> bool:
        return self.procedure.target_seconds is not None or bool(
            any(r.deadline for r in self.runbook.decision_matrix.rows)
        )

    def _windows(self) -> tuple[windows.Window, ...]:
        decision = self.state.decision
        row = (decision.row_id, decision.deadline_seconds) if decision is not None else None
        return windows.windows_of(self.procedure.target_seconds, row)

    def _check_windows(self) -> float | None:
        """Emit due warnings and breaches (``windows.py``); return seconds until the next one."""
        if self._started_at is None:
            return None
        at = now()
        found = windows.due(
            self._windows(), self._started_at, at, warned=self._warned, breached=self._breached
        )
        for crossing in found.crossings:
            scope, elapsed = crossing.scope, round(crossing.elapsed, 3)
            self._warned.add(scope)
            if crossing.level == windows.BREACH:
                self._breached.add(scope)
                self._emit(ev.WindowBreached(scope=scope, elapsed=elapsed, target=crossing.target, at=at))
            else:
                self._emit(ev.WindowWarning(scope=scope, elapsed=elapsed, target=crossing.target, at=at))
        return found.next_in

    async def _clock(self) -> None:
        wake = self._clock_wake
        assert wake is not None
        while True:
            due = self._check_windows()
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), None if due is None else max(due, 0) + 0.005)


_new_event = object.__new__


def _slot_setter(cls: type, name: str) -> Callable[[object, Any], None]:
    setter: Callable[[object, Any], None] = cls.__dict__[name].__set__
    return setter


_SET_STEP = _slot_setter(ev.OutputLine, "step_id")
_SET_SEQ = _slot_setter(ev.OutputLine, "seq")
_SET_STREAM = _slot_setter(ev.OutputLine, "stream")
_SET_TEXT = _slot_setter(ev.OutputLine, "text")
_SET_ANSI = _slot_setter(ev.OutputLine, "ansi")
_SET_AT = _slot_setter(ev.Event, "at")
# Only while OutputLine is exactly these fields and does nothing else on creation.
_FAST_EVENTS = [f.name for f in dataclasses.fields(ev.OutputLine)] == [
    "at",
    "step_id",
    "seq",
    "stream",
    "text",
    "ansi",
] and not hasattr(ev.OutputLine, "__post_init__")


def _output_events(
    step_id: str, first: int, stream: str, texts: list[str], colours: list[str], at: float
) -> list[ev.OutputLine]:
    """``OutputLine(step_id, seq, stream, text, ansi, at=at)`` for each line, at a third of the cost.

    The frozen dataclass's ``__init__`` goes through ``object.__setattr__`` per field;
    a million lines pay that a million times. The slot descriptors set the same
    fields (OutputLine has no ``__post_init__``), and the events compare equal.
    """
    seqs = range(first, first + len(texts))
    if not _FAST_EVENTS:
        return [
            ev.OutputLine(step_id, seq, stream, text, ansi, at=at)
            for seq, text, ansi in zip(seqs, texts, colours, strict=True)
        ]
    events: list[ev.OutputLine] = []
    append = events.append
    new = _new_event
    cls = ev.OutputLine
    for seq, text, ansi in zip(seqs, texts, colours, strict=True):
        event = new(cls)
        _SET_STEP(event, step_id)
        _SET_SEQ(event, seq)
        _SET_STREAM(event, stream)
        _SET_TEXT(event, text)
        _SET_ANSI(event, ansi)
        _SET_AT(event, at)
        append(event)
    return events


def _damaged_message(loaded: FoldedJournal, path: Path) -> str:
    """Why resume stops at damaged lines: where, which step, and the explicit way on."""
    sid = loaded.session_id or path.stem
    lines = loaded.unaccepted
    where = "; ".join(
        f"{path}:{d.number}: line {d.number} cannot be read"
        + (f" (it belongs to step {d.step_id!r}, as the lines around it tell)" if d.step_id else "")
        for d in lines
    )
    steps = sorted({d.step_id for d in lines if d.step_id})
    risk = f"step {', '.join(steps)} could run again" if steps else "a recorded step could run again"
    return (
        f"{where}. Resuming past a damaged line would lose what it recorded: {risk}. "
        f"See what is recorded with 'runbook-tui report {sid}'; to resume anyway, "
        f"'runbook-tui resume {sid} --plain --accept-damaged' (or accept it in the app's dialog): "
        "the acceptance is recorded in the journal, and the step is asked about, never re-run silently"
    )


class EditReconcileError(RunbookTuiError):
    """Resume found a planned edit whose file matches neither its before nor its after version."""

    exit_code = 2


def _changed_message(step_id: str, record: EditRecord, digest: str) -> str:
    now_is = f"its sha256 is now {digest}" if digest else "it is missing now"
    return (
        f"{record.path}: the edit of step {step_id!r} was journalled as planned but its result was not, "
        f"and the file matches neither version ({now_is}; before the edit {record.before_sha256}, "
        f"after it {record.after_sha256}). Compare it with the backup {record.backup} (the version "
        "before the edit), put back the version you want, then resume again"
    )


def _reconcile_edits(state: SessionState) -> list[tuple[str, EditRecord, str, str]]:
    """Each planned edit with no recorded result, and what its file says (applied or not applied).

    Raises :class:`EditReconcileError` when a file matches neither version: resuming
    over it could run a step again on a file nobody can account for.
    """
    found: list[tuple[str, EditRecord, str, str]] = []
    for step_id in state.step_order:
        for record in state.steps[step_id].planned_edits:
            try:
                result, digest = edits.reconcile(Path(record.path), record.before_sha256, record.after_sha256)
            except edits.EditError as exc:
                raise EditReconcileError(
                    f"{exc}; cannot check the edit of step {step_id!r} before resuming"
                ) from None
            if result == "changed":
                raise EditReconcileError(_changed_message(step_id, record, digest))
            found.append((step_id, record, result, digest))
    return found


def fill_step(step: Step, values: Mapping[str, str], *, runnable: bool) -> Step:
    """``step`` with its placeholders filled from ``values`` (ParameterError for a missing one).

    ``runnable``: shell commands keep quoted variable references (the values travel in
    the environment) and URLs get their values percent-encoded; otherwise the values
    are spliced in for a reader.
    """
    spec_is_shell = isinstance(step.spec, ShellSpec | WatchSpec)
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(step.spec):
        value = getattr(step.spec, f.name)
        if runnable and spec_is_shell and f.name == "command":
            rendered: Any = P.render(value, values, shell=True) if P.placeholders(value) else value
        elif runnable and isinstance(step.spec, HttpSpec) and f.name == "url":
            rendered = P.render_url(value, values) if P.placeholders(value) else value
        else:
            rendered = _render_value(value, values, shell=False)
        if rendered is not value:
            changes[f.name] = rendered
    spec = dataclasses.replace(step.spec, **changes) if changes else step.spec
    return dataclasses.replace(
        step,
        spec=spec,
        title=P.render(step.title, values),
        confirm=P.render(step.confirm, values) if step.confirm else step.confirm,
    )


def display_step(runbook: Runbook, step: Step, values: Mapping[str, str]) -> Step:
    """The step as shown to a reader (and journalled): values in place, secret values masked.

    Needs no session or journal: ``plan`` renders steps with it too.
    """
    secret = {p.name for p in runbook.parameters if p.secret}
    if secret & values.keys():
        values = {k: (P.REDACTED if k in secret and v else v) for k, v in values.items()}
    return fill_step(step, values, runnable=False)


def check_params(runbook: Runbook, values: Mapping[str, str]) -> dict[str, str]:
    """Values given up front, validated against the runbook's parameters (ParameterError names the rule)."""
    checked: dict[str, str] = {}
    declared = ", ".join(p.name for p in runbook.parameters) or "none"
    for name, value in values.items():
        param = runbook.parameter(name)
        if param is None:
            raise ParameterError(name, f"is not declared by runbook {runbook.id!r} (it declares: {declared})")
        checked[name] = P.validate(param, value)
    return checked


def _procedure(runbook: Runbook, procedure: Procedure | str) -> Procedure:
    if isinstance(procedure, Procedure):
        return procedure
    found = runbook.procedure(procedure)
    if found is None:
        known = ", ".join(p.id for p in runbook.procedures)
        raise UsageError(f"runbook {runbook.id!r} has no procedure {procedure!r} (procedures: {known})")
    return found


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, Enum):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)


def _step_placeholders(step: Step) -> list[str]:
    """Parameter names a step uses, in order of first use."""
    texts = [step.title, step.confirm or ""]
    for f in dataclasses.fields(step.spec):
        texts.extend(_strings(getattr(step.spec, f.name)))
    return list(dict.fromkeys(name for text in texts for name in P.placeholders(text)))


def _render_value(value: Any, values: Mapping[str, str], *, shell: bool) -> Any:
    """``value`` with placeholders filled; the same object when nothing changed."""
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        if not P.placeholders(value):
            return value
        return P.render(value, values, shell=shell)
    if isinstance(value, tuple):
        items = tuple(_render_value(v, values, shell=shell) for v in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, Mapping):
        rendered = {k: _render_value(v, values, shell=False) for k, v in value.items()}
        if all(rendered[k] is value[k] for k in value):
            return value
        from types import MappingProxyType

        return MappingProxyType(rendered)
    return value


def _plain_data(data: Mapping[str, Any], redact: Callable[[str], str]) -> dict[str, Any]:
    """Step data as plain JSON values, secrets redacted, so a reloaded journal folds the same."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return redact(value)
        if isinstance(value, bool | int | float) or value is None:
            return value
        if isinstance(value, Mapping):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [clean(v) for v in value]
        return redact(str(value))

    return {str(k): clean(v) for k, v in data.items()}
