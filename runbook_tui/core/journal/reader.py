"""Reading a journal back as events: loading it, folding it as it streams, its ends, a live tail.

Every reader here follows the same rules, with the same messages: line 1 is the
header (``codec.decode_header``); a line that cannot be read is skipped and named in
``problems``; a newer version's event kind is skipped and counted, never damage; a
last line without its newline is judged by ``codec.is_torn`` (cut off by a crash:
dropped and reported, never fatal). A missing or unreadable file is a
:class:`JournalError` naming it.

- :func:`load`: every event (tests, drills, small journals);
- :func:`fold_file`: the session state, folded as the file streams, in memory bounded by
  the state, not the file (resume of a million lines);
- :func:`read_ends`: the header and an unterminated last line, never the rest (reopening
  to append, ``verify``);
- :class:`JournalTail`: what another process appended since the last call (``follow``).

The report and the session list read records as dicts, without the event classes:
``records.py``.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from .. import events as ev
from ..events import EVENT_TYPES, DamagedLineAccepted, Event
from .codec import (
    HEADER_START,
    OUTPUT_LINE,
    OUTPUT_LINE_BARE,
    JournalError,
    decode_header,
    decode_into,
    is_torn,
    known_seconds,
    match_at,
    match_text,
    second_start,
)
from .fold import TAIL_LINES, SessionState, StateFolder, TailLine

READ_BYTES = 1024 * 1024  # at most this much is read (and decoded) per call of JournalTail.read


@dataclass(frozen=True, slots=True)
class LoadedJournal:
    """A journal read back: its header, its events, and what was wrong with it."""

    header: dict[str, Any]
    events: list[Event]
    torn_tail: bool = False
    problems: list[str] = field(default_factory=list)
    path: Path | None = None

    @property
    def session_id(self) -> str:
        return str(self.header.get("session_id", ""))


def load(path: Path | str) -> LoadedJournal:
    """Read a journal. A torn last line is dropped and reported; a foreign file is a :class:`JournalError`."""
    # Line by line, not read_bytes().split(): a million output lines would otherwise be held
    # twice (the file and its split) beside the events (745 MB instead of ~270 MB).
    return _read(Path(path), _load_lines)


_T = TypeVar("_T")


def _read(path: Path, reader: Callable[[Path, BinaryIO], _T]) -> _T:
    """``reader`` over the journal's bytes; a missing or unreadable file is a :class:`JournalError`."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise JournalError(f"{path}: no such session journal") from None
    except OSError as exc:
        raise JournalError(f"{path}: cannot read the journal: {exc.strerror or exc}") from None
    try:
        with handle:
            return reader(path, handle)
    except OSError as exc:
        raise JournalError(f"{path}: cannot read the journal: {exc.strerror or exc}") from None


def _load_lines(path: Path, handle: BinaryIO) -> LoadedJournal:
    first = handle.readline()
    if not first.endswith(b"\n"):
        return _only_fragment(path, first)
    header = decode_header(path, first[:-1])
    events: list[Event] = []
    problems: list[str] = []
    torn = False
    number = 1
    for line in handle:
        number += 1
        torn = _take_line(events, problems, path, number, line) or torn
    return LoadedJournal(header, events, torn, problems, path)


def _take_line(events: list[Event], problems: list[str], path: Path, number: int, line: bytes) -> bool:
    """Decode one line after the header into ``events``; True when it is a torn last line."""
    if line.endswith(b"\n"):
        if line.strip():
            decode_into(events, problems, path, number, line[:-1])
        return False
    # The last line, without its newline: complete but unterminated, or torn by a crash.
    if not is_torn(line):
        decode_into(events, [], path, number, line)
        problems.append(f"{path}:{number}: the last line had no newline; it was kept")
        return False
    cut = f"{path}:{number}: the last line was cut off ({len(line)} bytes, a crash mid-write); dropped"
    problems.append(cut)
    return True


_TAIL_BLOCK = 64 * 1024  # read backwards in blocks this size to find the last line


def read_ends(path: Path) -> tuple[dict[str, Any], tuple[int, bytes] | None]:
    """The header, and the last line when it lacks its newline: ``(offset, bytes)``, else None.

    The same checks and messages as :func:`load` for the header; the rest of the file is
    not read, only its last line (found by reading backwards from the end).
    """
    return _read(path, _ends)


def _ends(path: Path, handle: BinaryIO) -> tuple[dict[str, Any], tuple[int, bytes] | None]:
    first = handle.readline()
    if not first.endswith(b"\n"):
        _only_fragment(path, first)  # a foreign file is an error, as load says
        return {}, ((0, first) if first else None)
    header = decode_header(path, first[:-1])
    return header, _unterminated_tail(handle, len(first), os.fstat(handle.fileno()).st_size)


def _unterminated_tail(handle: BinaryIO, start: int, size: int) -> tuple[int, bytes] | None:
    """The last line of ``handle`` after ``start`` when it lacks its newline, with its offset."""
    if size <= start:
        return None
    handle.seek(size - 1)
    if handle.read(1) == b"\n":
        return None
    chunks: list[bytes] = []
    end = size
    while True:
        begin = max(start, end - _TAIL_BLOCK)
        handle.seek(begin)
        block = handle.read(end - begin)
        cut = block.rfind(b"\n")
        if cut >= 0:
            chunks.append(block[cut + 1 :])
            keep = begin + cut + 1
            break
        chunks.append(block)
        if begin == start:  # the line right after the header
            keep = start
            break
        end = begin
    return keep, b"".join(reversed(chunks))


@dataclass(frozen=True, slots=True)
class DamagedLine:
    """A line before the journal's end that cannot be read (a torn last line is not one)."""

    number: int  # 1-based, the header is line 1
    step_id: str  # the step it belongs to: its own step_id if legible, else its neighbours'; "" if none


class DamagedJournal(JournalError):
    """Resume refuses a journal with damaged lines before its end, unless the engineer accepts them."""

    def __init__(self, message: str, damaged: Sequence[DamagedLine]) -> None:
        super().__init__(message)
        self.damaged = tuple(damaged)


@dataclass(frozen=True, slots=True)
class FoldedJournal:
    """A journal folded as it was read: its header, the session state, and what was wrong with it."""

    header: dict[str, Any]
    state: SessionState
    torn_tail: bool = False
    problems: list[str] = field(default_factory=list)
    path: Path | None = None
    damaged: tuple[DamagedLine, ...] = ()  # every damaged line before the end, in order
    accepted: frozenset[int] = frozenset()  # line numbers a damaged_line_accepted event names

    @property
    def unaccepted(self) -> tuple[DamagedLine, ...]:
        """The damaged lines nobody has accepted yet: resume refuses while there are any."""
        return tuple(d for d in self.damaged if d.number not in self.accepted)

    @property
    def session_id(self) -> str:
        return str(self.header.get("session_id", ""))


def fold_file(path: Path | str) -> FoldedJournal:
    """``state.fold(load(path).events)`` read once, in memory bounded by the state, not the file.

    The same header, state, torn tail and problems as :func:`load` then ``fold``; but no
    event list: output lines (nearly all of a big journal) are only checked and counted,
    and the few left in a step's tail are decoded (resume of a million lines: ~30 MB,
    not ~270 MB).
    """
    return _read(Path(path), _fold_lines)


class _OutputRun:
    """Output lines of one step in a row, as matched: counted, the last ones kept."""

    __slots__ = ("count", "last_seq", "step_id", "tail")

    def __init__(self, step_id: str, seq: int) -> None:
        self.step_id = step_id
        self.count = 0
        self.last_seq = seq
        self.tail: deque[re.Match[str]] = deque(maxlen=TAIL_LINES)

    def tail_lines(self) -> list[TailLine]:
        return [TailLine(int(m[4]), sys.intern(m[5]), match_text(m), match_at(m)) for m in self.tail]


def _fold_lines(path: Path, handle: BinaryIO) -> FoldedJournal:
    folder = StateFolder()
    first = handle.readline()
    if not first.endswith(b"\n"):
        fragment = _only_fragment(path, first)
        return FoldedJournal(fragment.header, folder.state, fragment.torn_tail, fragment.problems, path)
    header = decode_header(path, first[:-1])
    problems: list[str] = []
    torn = False
    number = 1
    run: _OutputRun | None = None
    match = OUTPUT_LINE.fullmatch
    seconds = known_seconds
    decoded: list[Event] = []
    damage = _DamageLog()
    for line in handle:
        number += 1
        try:
            m = match(line.decode("utf-8"))
        except UnicodeDecodeError:
            m = None
        if m is not None and (m[1] in seconds or second_start(m[1]) is not None):
            step_id = m[3]
            if run is None or run.step_id != step_id:
                if run is not None:
                    folder.apply_output_run(run.step_id, run.count, run.last_seq, run.tail_lines())
                run = _OutputRun(sys.intern(step_id), int(m[4]))
                damage.saw(run.step_id)  # once per run of lines, not per line (a million of them)
            run.count += 1
            seq = int(m[4])
            if seq > run.last_seq:
                run.last_seq = seq
            run.tail.append(m)
            continue
        # Any other line: exactly as load reads it, after the output lines before it.
        if run is not None:
            folder.apply_output_run(run.step_id, run.count, run.last_seq, run.tail_lines())
            run = None
        torn = _take_line(decoded, problems, path, number, line) or torn
        if decoded:
            event = decoded.pop()
            damage.saw(str(getattr(event, "step_id", "") or ""), event)
            folder.apply(event)
        elif line.endswith(b"\n") and line.strip() and _is_damaged(line):
            damage.damaged(number, line)
    if run is not None:
        folder.apply_output_run(run.step_id, run.count, run.last_seq, run.tail_lines())
    return FoldedJournal(
        header, folder.state, torn, problems, path, tuple(damage.lines), frozenset(damage.accepted)
    )


_STEP_ID = re.compile(rb'"step_id":"([^"\\]{1,200})"')


class _DamageLog:
    """The damaged lines met while folding, each named after its step (its own, else its neighbours')."""

    def __init__(self) -> None:
        self.lines: list[DamagedLine] = []
        self.accepted: set[int] = set()
        self._last_step = ""
        self._waiting: list[int] = []  # damaged lines with no step yet: the next event's names it

    def saw(self, step_id: str, event: Event | None = None) -> None:
        if isinstance(event, DamagedLineAccepted):
            self.accepted.add(event.line)
            return
        if not step_id:
            return
        self._last_step = step_id
        for index in self._waiting:
            self.lines[index] = DamagedLine(self.lines[index].number, step_id)
        self._waiting.clear()

    def damaged(self, number: int, line: bytes) -> None:
        own = _STEP_ID.search(line)
        step_id = own[1].decode("utf-8", "replace") if own else self._last_step
        if not step_id:
            self._waiting.append(len(self.lines))
        self.lines.append(DamagedLine(number, step_id))


def _is_damaged(line: bytes) -> bool:
    """A line that did not decode, unless it is a well-formed event of a kind a newer version wrote."""
    try:
        data = json.loads(line)
    except ValueError:
        return True
    if not isinstance(data, dict):
        return True
    kind = data.get("kind")
    return not isinstance(kind, str) or kind in EVENT_TYPES


def _only_fragment(path: Path, fragment: bytes) -> LoadedJournal:
    """A file with no complete line: empty or a torn header is a crash at creation."""
    if fragment.startswith(HEADER_START) or HEADER_START.startswith(fragment):
        problem = f"{path}:1: the journal header was cut off (a crash while the session started)"
        return LoadedJournal({}, [], True, [problem], path)
    raise JournalError(f"{path}: not a runbook-tui session journal (no header line)")


# --- following a journal another process writes ----------------------------------


class JournalTail:
    """Reads the events appended to a journal since the last call; read-only, no lock.

    The header line is checked once (the same checks and messages as :func:`load`).
    Lines that cannot be decoded are skipped and listed in ``problems``, as ``load`` does.
    Only whole lines are decoded: a last line without its newline is a line being
    written, not damage; it waits in memory until its newline arrives (:attr:`torn` says
    how :func:`load` would judge it were the file to end there).
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
        match = OUTPUT_LINE_BARE.fullmatch
        output = ev.OutputLine
        intern = sys.intern
        for line in lines:
            self._number += 1
            m = match(line) if type(line) is str else None
            if m is not None and self.header is not None:
                whole = second_start(m[1])
                if whole is not None:  # the same event as the journal's decoder builds
                    at = (whole * 1_000_000 + int(m[2])) / 1_000_000
                    events.append(
                        output(
                            step_id=intern(m[3]),
                            seq=int(m[4]),
                            stream=intern(m[5]),
                            text=match_text(m),
                            at=at,
                        )
                    )
                    continue
            raw = line.encode("utf-8") if isinstance(line, str) else line
            if self.header is None:
                self.header = decode_header(self.path, raw)
            elif raw.strip():
                decode_into(events, self.problems, self.path, self._number, raw)
        return events

    @property
    def waiting(self) -> bool:
        """Whether a line is half-written (its newline not yet on disk)."""
        return bool(self._partial)

    @property
    def torn(self) -> bool:
        """Whether the half-written line, were the file to end here, was cut off (``codec.is_torn``)."""
        return bool(self._partial) and is_torn(self._partial)
