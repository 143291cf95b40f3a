"""Following a session someone else runs: tail its journal, fold what arrives, never write.

``runbook-tui follow`` reads the journal another process appends to. It opens the
file read-only, takes no lock, and reads whatever has been appended since the last
poll. Only whole lines are decoded (with the journal's own line decoder); a last
line without its newline is a line being written, not damage: it waits in the
buffer until its newline arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import events as ev
from .journal.fold import SessionState, StateFolder
from .journal.writer import _OUTPUT_LINE, JournalError, _decode_into, _match_text, _read_header, _second_start

POLL_SECONDS = 0.1  # how often the tail looks for new bytes
READ_BYTES = 1024 * 1024  # at most this much is read (and decoded) per poll chunk
# In the app, at most this much is folded and handed to the screen per batch (~2-3k output
# lines): a 1M-line step arrives as many short batches, never one long stall of the UI loop.
BATCH_BYTES = 256 * 1024
# The journal's own pattern of an output line as it writes them (``journal._OUTPUT_LINE``),
# matched on a line without its newline: a match is built straight into its event, as
# ``fold_file`` does; any other line takes the journal's general decoder.
_OUTPUT = re.compile(_OUTPUT_LINE.pattern.removesuffix(r"\n"))


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


class JournalTail:
    """Reads the events appended to a journal since the last call; read-only, no lock.

    The header line is checked once (the same checks and messages as ``journal.load``).
    Lines that cannot be decoded are skipped and listed in ``problems``, as ``load`` does.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self._handle = self.path.open("rb")
        except FileNotFoundError:
            raise JournalError(f"{self.path}: no such session journal") from None
        except OSError as exc:
            raise JournalError(f"{self.path}: cannot read the journal: {exc.strerror or exc}") from None
        self._partial = b""  # the start of a line whose newline has not been written yet
        self._number = 0  # lines taken so far (the header is line 1)
        self.header: dict[str, object] | None = None
        self.problems: list[str] = []

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> JournalTail:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, limit: int = READ_BYTES) -> list[ev.Event]:
        """The events in the whole lines appended since the last call (about ``limit`` bytes read).

        Empty only when nothing more has been written (a half-written last line waits in
        memory for its newline).
        """
        while True:
            events, more = self._read_once(limit)
            if events or not more:
                return events

    def _read_once(self, limit: int) -> tuple[list[ev.Event], bool]:
        """The events of one read (none, say, after the header alone), and whether it got bytes."""
        data = self._partial
        got = False
        while True:  # a line longer than ``limit`` is read on until its newline (or the end)
            try:
                chunk = self._handle.read(limit)
            except OSError as exc:
                raise JournalError(f"{self.path}: cannot read the journal: {exc.strerror or exc}") from None
            if not chunk and data and self._was_cut():
                data = b""  # resume cut the torn line we held: it is read again as rewritten
                continue
            data += chunk
            got = got or bool(chunk)
            if not chunk or b"\n" in chunk:
                break
        cut = data.rfind(b"\n") + 1
        self._partial = data[cut:]
        if not cut:
            return [], False
        whole = data[:cut]
        try:
            lines: list[str] | list[bytes] = whole.decode("utf-8").split("\n")
        except UnicodeDecodeError:
            lines = whole.split(b"\n")  # the general decoder names the bad line
        lines.pop()  # the empty piece after the last newline
        return self._decode(lines), got

    def _was_cut(self) -> bool:
        """Whether the file is now shorter than what was read: ``resume`` cut off a torn last line.

        That line began where the held fragment began, so reading goes on from there.
        """
        handle = self._handle
        position = handle.tell()
        if os.fstat(handle.fileno()).st_size >= position:
            return False
        handle.seek(position - len(self._partial))
        self._partial = b""
        return True

    def _decode(self, lines: list[str] | list[bytes]) -> list[ev.Event]:
        events: list[ev.Event] = []
        match = _OUTPUT.fullmatch
        output = ev.OutputLine
        intern = sys.intern
        for line in lines:
            self._number += 1
            m = match(line) if type(line) is str else None
            if m is not None and self.header is not None:
                whole = _second_start(m[1])
                if whole is not None:  # the same event as the journal's decoder builds
                    at = (whole * 1_000_000 + int(m[2])) / 1_000_000
                    events.append(
                        output(
                            step_id=intern(m[3]),
                            seq=int(m[4]),
                            stream=intern(m[5]),
                            text=_match_text(m),
                            at=at,
                        )
                    )
                    continue
            raw = line.encode("utf-8") if isinstance(line, str) else line
            if self.header is None:
                self.header = _read_header(self.path, raw)
            elif raw.strip():
                _decode_into(events, self.problems, self.path, self._number, raw)
        return events

    @property
    def waiting(self) -> bool:
        """Whether a line is half-written (its newline not yet on disk)."""
        return bool(self._partial)


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
