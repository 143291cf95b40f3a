"""Following a session someone else runs: tail its journal, fold what arrives, never write.

``runbook-tui follow`` reads the journal another process appends to, through the
journal's own tail (``journal.reader.JournalTail``: read-only, no lock, whole lines
only, decoded as ``load`` decodes them), and folds what arrives as resume does.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import events as ev
from .journal.fold import SessionState, StateFolder
from .journal.reader import READ_BYTES, JournalTail
from .liveness import alive_here
from .worklock import read_holder

POLL_SECONDS = 0.1  # how often the tail looks for new bytes
# In the app, at most this much is folded and handed to the screen per batch (~2-3k output
# lines): a 1M-line step arrives as many short batches, never one long stall of the UI loop.
BATCH_BYTES = 256 * 1024
# While nothing arrives, this often the follower asks whether the runner still lives.
GONE_CHECK_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class FollowOutcome:
    """How the followed session ended: its outcome and its exit code as ``run --plain`` gives it."""

    outcome: str
    exit_code: int


def exit_code_of(outcome: str) -> int:
    """``run --plain``'s exit code for an outcome: 0 succeeded, 130 aborted, else 1."""
    if outcome == ev.Outcome.SUCCEEDED:
        return 0
    return 130 if outcome == ev.Outcome.ABORTED else 1


def runner_gone(state: SessionState) -> str | None:
    """Why the runner of an unfinished session is known to be gone, or None while it may live.

    The runner holds its working directory's lock while the session is open (core/worklock.py):
    a lock released or taken by another session, or naming a process of this host that no
    longer exists, means nobody will finish it. A process on another host cannot be checked
    from here, so the follower goes on waiting for it.
    """
    if not state.workdir or not state.session_id:
        return None  # the start of the session is not read yet
    holder = read_holder(Path(state.workdir))
    if holder is None or holder.session_id != state.session_id:
        return "its runner let go of the working directory without finishing it"
    if alive_here(holder.host, holder.pid) is not False:
        return None
    return f"its runner (pid {holder.pid} on {holder.host}) is gone"


class FollowedSession:
    """The state of a followed session, folded from its tailed journal; listeners get each event.

    It offers what the run screen reads from a live engine ``Session`` (``state``,
    ``subscribe``, ``start``, ``close``, ``journal_path``, ``session_id``) and no intents:
    ``read_only`` says so. :meth:`poll` reads and folds in the caller's thread (the plain
    follower); :meth:`start` tails in the running event loop, decoding in a worker thread
    and folding on the loop, so listeners are called where the UI lives.
    """

    read_only = True

    def __init__(self, path: Path, runbook: object = None) -> None:
        self.tail = JournalTail(path)
        self.runbook = runbook
        self._folder = StateFolder()
        self._listeners: list[Callable[[ev.Event], None]] = []
        self._task: asyncio.Task[None] | None = None
        self.finished: ev.SessionFinished | None = None
        self.started: ev.SessionStarted | None = None
        self.warnings: tuple[str, ...] = ()
        self.gone: str | None = None  # why the runner stopped without finishing, once known
        self._gone_listeners: list[Callable[[str], None]] = []
        self._checked_at = time.monotonic()

    @property
    def path(self) -> Path:
        return self.tail.path

    @property
    def journal_path(self) -> Path:
        return self.tail.path

    @property
    def session_id(self) -> str:
        return self.state.session_id or self.tail.path.name.removesuffix(".jsonl")

    def carried_used(self, step_id: str) -> list[tuple[str, str, str]]:
        """The run screen's "uses X from step N" note needs the engine's parse: a follower shows none."""
        return []

    async def start(self) -> None:
        """Start tailing in the running loop (returns at once); :meth:`close` stops it."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._follow())

    async def _follow(self) -> None:
        while True:
            events = await asyncio.to_thread(self.tail.read, BATCH_BYTES)
            if events:
                self.apply(events)
                await asyncio.sleep(0)  # let the screen paint between batches
            elif self.finished is not None:
                return
            else:
                await self._check_runner_async()
                await asyncio.sleep(POLL_SECONDS)

    async def _check_runner_async(self) -> None:
        """:meth:`check_runner` for the app: file reads in a worker thread, folding on the loop."""
        if not self._check_due():
            return
        why = await asyncio.to_thread(runner_gone, self.state)
        if why is not None:
            events = await asyncio.to_thread(self.tail.read, BATCH_BYTES)
            self.apply(events)
            self._declare_gone(why, read_more=bool(events))

    def on_gone(self, callback: Callable[[str], None]) -> None:
        """Call ``callback`` with the reason once the runner is known gone without finishing."""
        self._gone_listeners.append(callback)

    @property
    def state(self) -> SessionState:
        return self._folder.state

    @property
    def operator(self) -> str:
        return self.started.operator if self.started is not None else ""

    def subscribe(self, listener: Callable[[ev.Event], None]) -> None:
        """Call ``listener`` with every event, in journal order, as polls find them."""
        self._listeners.append(listener)

    def poll(self, limit: int = 4 * READ_BYTES) -> list[ev.Event]:
        """Read what was appended (up to about ``limit`` bytes), fold it, tell the listeners."""
        events: list[ev.Event] = []
        while limit > 0:
            got = self.tail.read(min(limit, READ_BYTES))
            if not got:
                break
            events.extend(got)
            limit -= READ_BYTES
        self.apply(events)
        return events

    def apply(self, events: list[ev.Event]) -> None:
        """Fold ``events`` and tell the listeners, in journal order.

        Output lines in a row are folded together (``apply_output``: only their last lines
        are kept in the tail), so a 1M-line step costs the loop little more than the listeners.
        """
        folder = self._folder
        listeners = self._listeners
        run: list[ev.OutputLine] = []
        for event in events:
            if type(event) is ev.OutputLine:
                run.append(event)
                continue
            if run:
                self._apply_output(run)
                run = []
            folder.apply(event)
            self._note(event)
            for listener in listeners:
                listener(event)
        if run:
            self._apply_output(run)

    def _apply_output(self, run: list[ev.OutputLine]) -> None:
        self._folder.apply_output(run)  # one step's run, or line by line when steps interleave
        for listener in self._listeners:
            for line in run:
                listener(line)

    def _note(self, event: ev.Event) -> None:
        kind = type(event)
        if kind is ev.SessionStarted:
            self.started = event  # type: ignore[assignment]
        elif kind is ev.SessionFinished:
            self.finished = event  # type: ignore[assignment]
        elif kind is ev.SessionResumed:
            self.finished = None
            self.gone = None  # someone took it up again

    def check_runner(self) -> str | None:
        """Once in a while, with nothing new read: why the runner is gone without finishing, or None.

        The journal is read once more first: a runner that finished wrote that before it let go.
        """
        if not self._check_due():
            return None
        why = runner_gone(self.state)
        return None if why is None else self._declare_gone(why, read_more=bool(self.poll()))

    def _check_due(self) -> bool:
        """Whether to ask about the runner now: unfinished, not known gone, not asked lately."""
        if self.gone is not None or self.finished is not None:
            return False
        now = time.monotonic()
        if now - self._checked_at < GONE_CHECK_SECONDS:
            return False
        self._checked_at = now
        return True

    def _declare_gone(self, why: str, read_more: bool) -> str | None:
        """The runner is gone unless the last read found more (a finish, or a step going on)."""
        if read_more or self.finished is not None:
            return None
        self.gone = why
        for callback in self._gone_listeners:
            callback(why)
        return why

    @property
    def outcome(self) -> FollowOutcome | None:
        """How the session ended, once its ``session_finished`` has been read."""
        if self.finished is None:
            return None
        return FollowOutcome(self.finished.outcome, exit_code_of(self.finished.outcome))

    def close(self) -> None:
        """Stop tailing and close the file (the journal itself is never touched)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        with contextlib.suppress(OSError):
            self.tail.close()
