"""Continuing a session from its journal, and reconciling file edits journalled as planned.

:func:`resume_session` is ``Session.resume``: it folds the journal, refuses what must
not be resumed silently (a finished session, damaged lines, a planned edit whose file
matches neither version), and records what the resume found (interrupted steps,
reconciled edits, accepted damaged lines) before anything runs. Edit reconciliation is
also what a live step needs when its runner failed between journalling an edit and
reporting it (:func:`settle_planned_edits`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ... import locations
from .. import edits
from .. import events as ev
from ..asker import Asker
from ..errors import RunbookTuiError, UsageError
from ..journal import DamagedJournal, FoldedJournal, Journal, JournalError, fold_file
from ..journal.fold import EditRecord, SessionState
from ..model import Runbook
from ..steps.base import StepOutcome
from ..worklock import WorkLock
from .emitter import Emitter, now

if TYPE_CHECKING:
    from .session import Session

# (step id, the planned edit, what its file says: "applied" / "not_applied" / "changed", its sha256)
Reconciled = tuple[str, EditRecord, str, str]


class EditReconcileError(RunbookTuiError):
    """Resume found a planned edit whose file matches neither its before nor its after version."""

    exit_code = 2


def resume_session(
    cls: type[Session],
    journal_path: Path,
    runbook: Runbook,
    ask: Asker,
    *,
    workdir: Path | None,
    operator: str | None,
    env: Mapping[str, str] | None,
    params: Mapping[str, str] | None,
    backup_dir: Path | None,
    param_sources: Mapping[str, str] | None,
    lock_workdir: bool,
    accept_damaged: bool,
) -> Session:
    """``Session.resume`` (see its docstring): the session, with what the resume found journalled."""
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
        raise DamagedJournal(damaged_message(loaded, Path(journal_path)), damaged)
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
    if lock_workdir:
        session.worklock = WorkLock.acquire(session.workdir, state.session_id, session.operator)
    try:
        # Before anything is written, and under the lock: a planned edit with no result may refuse.
        unfinished_edits = reconcile_edits(state)
        journal = Journal.open_existing(Path(journal_path))  # reads its head and last line only
    except BaseException:
        session._release_worklock()
        raise
    session._attach(journal)
    emitter = session._emitter
    record_reconciled(emitter, unfinished_edits, session.warnings)
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
        emitter.emit(ev.StepInterrupted(step_id=step_id, attempt=state.step(step_id).attempts, at=now()))
    if damaged:
        known = {step.id for step, _phase in session.steps()}
        _accept_damaged(emitter, damaged, running, known, session.operator, session.warnings)
    emitter.emit(
        ev.SessionResumed(
            operator=session.operator,
            torn_tail=loaded.torn_tail,
            runbook_changed=session.runbook_changed,
            at=now(),
        )
    )
    session._record.takeover(session.worklock)
    if session.journal_failure is not None:
        # Still no room (say): nothing of this resume is recorded, so nothing may go on.
        session.close()
        raise session.journal_failure
    if state.current_operator and session.operator != state.current_operator:
        session.handoff(session.operator, reason="resume")  # someone else picked it up
    return session


def file_sha256(path: str) -> str:
    """Hex SHA-256 of the runbook file's bytes ("" when it cannot be read)."""
    if not path:
        return ""
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


def _accept_damaged(
    emitter: Emitter,
    damaged: Iterable[Any],
    running: Iterable[str],
    known: set[str],
    operator: str,
    warnings: list[str],
) -> None:
    """Journal each accepted damaged line; its step, unless done, is interrupted (asked about)."""
    asked = set(running)
    for line in damaged:
        accepted = ev.DamagedLineAccepted(line=line.number, step_id=line.step_id, operator=operator, at=now())
        emitter.emit(accepted)
        step_id = line.step_id
        if not step_id or step_id in asked or step_id not in known:
            continue
        step = emitter.state.step(step_id)
        if step.status.is_ok:
            continue  # recorded as done by the lines that can be read
        asked.add(step_id)
        emitter.emit(ev.StepInterrupted(step_id=step_id, attempt=step.attempts, at=now()))
    warnings.append(
        "resumed past damaged journal line(s) "
        + ", ".join(f"{d.number}" + (f" (step {d.step_id})" if d.step_id else "") for d in damaged)
        + "; the acceptance is recorded in the journal"
    )


def damaged_message(loaded: FoldedJournal, path: Path) -> str:
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


# --- edit reconciliation ---------------------------------------------------------


def reconcile_edits(state: SessionState) -> list[Reconciled]:
    """Each planned edit with no recorded result, and what its file says (applied or not applied).

    Raises :class:`EditReconcileError` when a file matches neither version: resuming
    over it could run a step again on a file nobody can account for.
    """
    found: list[Reconciled] = []
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


def record_reconciled(emitter: Emitter, found: Iterable[Reconciled], warnings: list[str]) -> None:
    """Journal what each planned edit without a result turned out to be; an applied one can be undone.

    An applied one is journalled as ``file_edited`` too, so the fold holds it as the
    step's edit and ``undo_edit`` finds it there.
    """
    for step_id, record, outcome, digest in found:
        emitter.emit(
            ev.EditReconciled(step_id=step_id, path=record.path, found=outcome, sha256=digest, at=now())
        )
        if outcome == "not_applied":
            warnings.append(
                f"{record.path}: the edit of step {step_id!r} was planned but never written; "
                "the step is still to do"
            )
        if outcome != "applied":
            continue
        warnings.append(
            f"{record.path}: the edit of step {step_id!r} was written but its result was never "
            f"journalled; recorded it now (backup {record.backup}, undo is possible)"
        )
        emitter.emit(
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


def settle_planned_edits(
    emitter: Emitter, step_id: str, outcome: StepOutcome, warnings: list[str]
) -> StepOutcome:
    """Record what became of planned edits the runner did not report; a changed file fails the step."""
    found: list[Reconciled] = []
    for record in emitter.state.step(step_id).planned_edits:
        try:
            result, digest = edits.reconcile(Path(record.path), record.before_sha256, record.after_sha256)
        except edits.EditError as exc:
            result, digest = "changed", ""
            emitter.output(step_id, str(exc), "stderr")
        found.append((step_id, record, result, digest))
        if result == "changed":
            outcome = StepOutcome.failed(_changed_message(step_id, record, digest))
    record_reconciled(emitter, found, warnings)
    return outcome


def _changed_message(step_id: str, record: EditRecord, digest: str) -> str:
    now_is = f"its sha256 is now {digest}" if digest else "it is missing now"
    return (
        f"{record.path}: the edit of step {step_id!r} was journalled as planned but its result was not, "
        f"and the file matches neither version ({now_is}; before the edit {record.before_sha256}, "
        f"after it {record.after_sha256}). Compare it with the backup {record.backup} (the version "
        "before the edit), put back the version you want, then resume again"
    )
