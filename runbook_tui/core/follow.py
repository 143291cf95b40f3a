"""Following a session someone else runs: tail its journal, fold what arrives, never write.

``runbook-tui follow`` reads the journal another process appends to, through the
journal's own tail (``journal.reader.JournalTail``: read-only, no lock, whole lines
only, decoded as ``load`` decodes them), and folds what arrives as resume does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import events as ev
from .journal.fold import SessionState, StateFolder
from .journal.reader import READ_BYTES, JournalTail

POLL_SECONDS = 0.1  # how often the tail looks for new bytes
# In the app, at most this much is folded and handed to the screen per batch (~2-3k output
# lines): a 1M-line step arrives as many short batches, never one long stall of the UI loop.
BATCH_BYTES = 256 * 1024


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
                await asyncio.sleep(POLL_SECONDS)

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
