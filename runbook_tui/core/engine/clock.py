"""The session's clock task: journals each window warning and breach when it falls due.

When is decided by :func:`.windows.due`, a pure function of the session's start, its
windows and the crossings already journalled, all read from the fold; this module
only sleeps until the next crossing and emits it. It is apart from ``windows.py``
because that module is pure and shared with the run screen's clock and the drill score.
"""

from __future__ import annotations

import asyncio
import contextlib

from .. import events as ev
from ..journal.fold import SessionState
from ..model import Procedure, Runbook
from . import windows
from .emitter import Emitter, now


class SessionClock:
    """Warns at 80% of each window (the procedure's, the decision row's deadline) and records breaches."""

    def __init__(self, runbook: Runbook, procedure: Procedure, emitter: Emitter) -> None:
        self._runbook = runbook
        self._procedure = procedure
        self._emitter = emitter
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None

    def ensure(self) -> None:
        """Start the clock task (on the running loop) when the session has a window to keep."""
        if self._task is None and self._windows_defined():
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run(), name="session-clock")

    def wake(self) -> None:
        """A window may have been added (a decision): look again now."""
        if self._wake is not None:
            self._wake.set()

    def cancel(self) -> None:
        """Stop the clock task without waiting for it."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def stop(self) -> None:
        """Stop the clock task and wait until it has stopped."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    def check(self) -> float | None:
        """Emit due warnings and breaches (``windows.py``); return seconds until the next one."""
        state = self._emitter.state
        started = state.started_at
        if started is None:
            return None
        at = now()
        found = windows.due(
            self._windows(state),
            started,
            at,
            warned={w.scope for w in state.warnings},
            breached={b.scope for b in state.breaches},
        )
        emit = self._emitter.emit
        for crossing in found.crossings:
            scope, elapsed = crossing.scope, round(crossing.elapsed, 3)
            if crossing.level == windows.BREACH:
                emit(ev.WindowBreached(scope=scope, elapsed=elapsed, target=crossing.target, at=at))
            else:
                emit(ev.WindowWarning(scope=scope, elapsed=elapsed, target=crossing.target, at=at))
        return found.next_in

    def _windows_defined(self) -> bool:
        return self._procedure.target_seconds is not None or bool(
            any(r.deadline for r in self._runbook.decision_matrix.rows)
        )

    def _windows(self, state: SessionState) -> tuple[windows.Window, ...]:
        decision = state.decision
        row = (decision.row_id, decision.deadline_seconds) if decision is not None else None
        return windows.windows_of(self._procedure.target_seconds, row)

    async def _run(self) -> None:
        wake = self._wake
        assert wake is not None
        while True:
            due = self.check()
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), None if due is None else max(due, 0) + 0.005)
