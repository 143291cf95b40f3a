"""The session journal: one JSONL file per session, appended and fsynced as events happen.

A session *is* its journal. Line 1 is a header with the schema version; every
other line is one event (``events.to_dict``). Every event that changes the
state is written and fsynced before ``append`` returns; ``output`` lines are
batched in memory and written at most 200 ms later, and always before any
other event, so the order on disk is the order they happened; their fsync runs
in a thread, off the event loop (``flush``, ``close`` and every other event
still fsync before returning). A crash mid-write leaves at most one torn last
line, which :func:`load` drops and reports.

Resume reads a journal with :func:`fold_file` (the state, folded as the file
streams, never every event) and reopens it with :meth:`Journal.open_existing`,
which looks only at its first and last lines.
"""

from __future__ import annotations

import contextlib
import json
import operator
import os
import re
import secrets
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from ... import __version__, locations
from ..errors import RunbookTuiError
from ..events import (
    EVENT_TYPES,
    SCHEMA_VERSION,
    DamagedLineAccepted,
    Event,
    EventDecodeError,
    OutputLine,
    UnknownEventKind,
    from_dict,
    iso_utc,
    parse_iso_utc,
    to_dict,
)
from . import chain as journal_chain
from .fold import TAIL_LINES, SessionState, StateFolder, TailLine

APP = "runbook-tui"
SUFFIX = ".jsonl"
OUTPUT_FLUSH_SECONDS = 0.2  # the longest an output line waits in memory
OUTPUT_BUFFER_BYTES = 256 * 1024  # beyond this, batched lines are written (fsync still waits)
_HEADER_START = b'{"schema":'


class JournalError(RunbookTuiError):
    """A journal could not be created, read or appended to; the message names the file."""

    exit_code = 2


class JournalWriteError(JournalError):
    """Writing the journal failed (a full disk, a read-only folder): nothing more is recorded.

    The message names the file, what went wrong, the fix, and how to continue: the
    journal keeps everything written before the failure, so the session is resumable.
    """

    def __init__(self, path: Path, session_id: str, exc: OSError, doing: str = "write to") -> None:
        self.path = path
        self.session_id = session_id
        self.errno = exc.errno
        self.strerror = exc.strerror or str(exc)
        super().__init__(
            f"{path}: cannot {doing} the journal: {self.strerror}. {write_fix(path, exc.errno)}, "
            f"then 'runbook-tui resume {session_id}' continues the session from its last recorded event"
        )


def write_fix(path: Path, code: int | None) -> str:
    """What to do about a failed write to ``path``, by its errno."""
    import errno

    folder = path.parent
    if code in (errno.ENOSPC, errno.EDQUOT):
        return f"Free space on the disk that holds {folder} (df -h {folder})"
    if code in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"Make {folder} and {path.name} writable for you (ls -ld {folder}; lsattr -d {folder})"
    return f"Check the disk that holds {folder}"


def new_session_id(runbook_id: str, at: float | None = None) -> str:
    """``YYYYMMDDTHHMMSSZ-<runbook id>-<4 hex>``: unique, and sorts by start time."""
    moment = datetime.fromtimestamp(time.time() if at is None else at, UTC)
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in runbook_id.lower()).strip("-")
    return f"{moment:%Y%m%dT%H%M%SZ}-{safe or 'runbook'}-{secrets.token_hex(2)}"


def _header(session_id: str) -> dict[str, Any]:
    return {"schema": SCHEMA_VERSION, "app": APP, "version": __version__, "session_id": session_id}


def _encode(event: Event) -> bytes:
    if type(event) is OutputLine:
        return _encode_output(event)
    data = to_dict(event)  # never carries ``ansi``
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return (text + "\n").encode("utf-8", "replace")


_quote = json.encoder.encode_basestring
_last_second: list[Any] = [None, ""]  # the second whose "YYYY-MM-DDTHH:MM:SS." was built last


def fast_iso_utc(at: float) -> str:
    """Same text as :func:`events.iso_utc`, for the hot path (the date part is reused within a second)."""
    second, micro = divmod(round(at * 1_000_000), 1_000_000)
    cache = _last_second
    if cache[0] != second:
        cache[1] = iso_utc(float(second))[:20]
        cache[0] = second
    return f"{cache[1]}{micro:06d}Z"


def _encode_output(event: OutputLine) -> bytes:
    # A million lines go through here: format by hand instead of the generic field walk.
    text = (
        f'{{"kind":"output","at":"{fast_iso_utc(event.at)}","step_id":{_quote(event.step_id)},'
        f'"seq":{int(event.seq)},"stream":{_quote(event.stream)},"text":{_quote(event.text)}}}\n'
    )
    return text.encode("utf-8", "replace")


_SHARED = operator.attrgetter("at", "step_id", "stream")


def _encode_outputs(events: Sequence[OutputLine]) -> bytes:
    """``b"".join(map(_encode_output, events))``, sharing the parts the lines of a chunk have in common."""
    first = events[0]
    at, step_id, stream = first.at, first.step_id, first.stream
    if not all(map((at, step_id, stream).__eq__, map(_SHARED, events))):  # C speed, no genexpr
        return b"".join(map(_encode_output, events))
    head = f'{{"kind":"output","at":"{fast_iso_utc(at)}","step_id":{_quote(step_id)},"seq":'
    middle = f',"stream":{_quote(stream)},"text":'
    quote = _quote
    text = "".join([f"{head}{int(e.seq)}{middle}{quote(e.text)}}}\n" for e in events])
    return text.encode("utf-8", "replace")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class Journal:
    """An open session journal. Use :meth:`create` or :meth:`open_existing`."""

    def __init__(self, path: Path, fd: int, session_id: str) -> None:
        self.path = path
        self.session_id = session_id
        self._fd: int | None = fd
        self._lock = threading.Lock()
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._unsynced = False  # batched bytes written but not yet fsynced
        self._syncing = False  # a background fsync of batched output is running
        self._timer: Any = None  # an asyncio TimerHandle or a threading.Timer
        # The first failed write: every later append raises it; nothing is written after it.
        self.failure: JournalWriteError | None = None
        # Called (outside the lock, from whichever thread wrote) when a write fails, so the
        # session stops running steps that would otherwise run unrecorded.
        self.on_failure: Callable[[JournalWriteError], None] | None = None
        self._chain: journal_chain.Chain | None = None  # seals every line written (core/journal_chain.py)
        self._tee: Any = None  # core/sinks.py's Tee: a copy of every line for the configured sinks

    # --- opening ---------------------------------------------------------------

    @classmethod
    def create(cls, session_id: str, dir: Path | None = None, mode: int | None = None) -> Journal:
        """A new journal ``<dir>/<session_id>.jsonl`` with its header.

        ``dir`` defaults to the sessions folder, checked (a team folder or a private one:
        ``locations.ensure_sessions_dir``); ``mode`` to 0600, 0660 in a team folder.
        """
        chain = journal_chain.Chain(journal_chain.load_key())  # before the file: a key problem leaves none
        from .. import sinks

        sinks.configured()  # likewise a bad [[sinks]] table: said before any file is made
        folder = locations.ensure_sessions_dir() if dir is None else locations.ensure_private_dir(dir)
        mode = locations.shared_file_mode(folder) if mode is None else mode
        path = folder / f"{session_id}{SUFFIX}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, mode)
        except FileExistsError:
            raise JournalError(f"{path}: a session with this id already exists") from None
        except OSError as exc:
            raise JournalError(
                f"{path}: cannot create the journal: {exc.strerror or exc}. {write_fix(path, exc.errno)}"
            ) from None
        header = json.dumps(
            {**_header(session_id), **journal_chain.header_fields(chain.key)}, separators=(",", ":")
        )
        sealed = chain.seal(header.encode() + b"\n")
        try:
            os.fchmod(fd, mode)  # the umask may have taken bits away; never added any
            _write_all(fd, sealed)
            os.fsync(fd)
            _fsync_dir(folder)
        except OSError as exc:
            # Nothing was recorded yet: leave no half-written header behind for resume to trip on.
            os.close(fd)
            path.unlink(missing_ok=True)
            raise JournalWriteError(path, session_id, exc, "start") from None
        journal = cls(path, fd, session_id)
        journal._chain = chain
        journal._open_tee(sealed)  # only now: the sinks never get a header that is not on disk
        return journal

    @classmethod
    def open_existing(cls, path: Path) -> Journal:
        """Reopen a journal to append to it (resume); a torn last line is cut off first.

        Reads the header line and the last line only, never the whole file: resume has
        just streamed it (:func:`fold_file`), and a journal can be hundreds of MB.
        """
        header, end = _read_ends(path)
        session_id = str(header.get("session_id") or path.stem)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        except OSError as exc:
            raise JournalWriteError(path, session_id, exc, "reopen") from None
        try:
            if end is not None:
                keep, torn = end
                if keep == 0:
                    raise JournalError(f"{path}: the journal has no complete header; it cannot be resumed")
                if not _decode_into([], [], path, 0, torn):
                    # Keep the fragment beside the journal: it is evidence, not data we can read.
                    # On a full disk there may be no room for it: the cut comes first, then.
                    with contextlib.suppress(OSError):
                        Path(f"{path}.torn").write_bytes(torn)
                    os.ftruncate(fd, keep)
                else:
                    _write_all(fd, b"\n")  # a complete last event that lacked its newline
                os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            raise JournalWriteError(path, session_id, exc, "repair the end of") from None
        except BaseException:
            os.close(fd)
            raise
        journal = cls(path, fd, session_id)
        try:
            journal._chain = journal_chain.resume_chain(header, journal_chain.last_line(path))
            journal._open_tee()
        except BaseException:
            os.close(fd)
            raise
        return journal

    # --- writing ---------------------------------------------------------------

    def append(self, event: Event) -> None:
        """Write ``event``: at once and fsynced, or (``output``) batched for at most 200 ms.

        A failed write raises :class:`JournalWriteError` (and so does every append after it).
        """
        line = _encode(event)
        try:
            self._append(event, line)
        except OSError as exc:
            raise self._failed(exc) from None

    def _append(self, event: Event, line: bytes) -> None:
        with self._lock:
            if self.failure is not None:
                raise self.failure
            if self._fd is None:
                raise JournalError(f"{self.path}: the journal is closed")
            if type(event) is OutputLine:
                line = self._seal(line)  # sealed as it is queued: the chain's work spread over the batch
                self._pending.append(line)
                self._pending_bytes += len(line)
                if self._pending_bytes >= OUTPUT_BUFFER_BYTES:
                    self._write_pending()
                if self._timer is None:
                    self._schedule_flush()
                return
            self._write_pending()
            self._cancel_timer()
            _write_all(self._fd, self._copied(self._seal(line)))
            os.fsync(self._fd)
            self._unsynced = False

    def append_output(self, events: Sequence[OutputLine]) -> None:
        """Write output lines that arrived together (batched like ``append``), encoded as one block.

        The bytes on disk are exactly those ``append`` would write for each event in turn.
        """
        if not events:
            return
        block = _encode_outputs(events)
        try:
            with self._lock:
                if self.failure is not None:
                    raise self.failure
                if self._fd is None:
                    raise JournalError(f"{self.path}: the journal is closed")
                block = self._seal(block)  # sealed as it is queued, in the order written
                self._pending.append(block)
                self._pending_bytes += len(block)
                if self._pending_bytes >= OUTPUT_BUFFER_BYTES:
                    self._write_pending()
                if self._timer is None:
                    self._schedule_flush()
        except OSError as exc:
            raise self._failed(exc) from None

    def flush(self) -> None:
        """Write and fsync every batched output line now."""
        try:
            with self._lock:
                if self.failure is not None:
                    raise self.failure
                self._flush_locked()
        except OSError as exc:
            raise self._failed(exc) from None

    def close(self) -> None:
        """Flush, fsync and close; appending afterwards is an error.

        After a failed write, the file is closed without writing anything more (what is
        on disk is the record); a failure while flushing is raised after the close.
        """
        failed: OSError | None = None
        with self._lock:
            if self._fd is None:
                return
            if self.failure is None:
                try:
                    self._flush_locked()
                except OSError as exc:
                    failed = exc
            else:
                self._cancel_timer()
            os.close(self._fd)
            self._fd = None
        if self._tee is not None:
            self._tee.close()  # a sink that is down keeps the rest spooled on disk, never waits
            self._tee = None
        if failed is not None:
            raise self._failed(failed) from None

    def _failed(self, exc: OSError) -> JournalWriteError:
        """Remember the first failed write, drop what waits in memory, tell the session once."""
        with self._lock:
            first = self.failure is None
            if first:
                self.failure = JournalWriteError(self.path, self.session_id, exc)
                self._pending.clear()
                self._pending_bytes = 0
                self._cancel_timer()
            failure = self.failure
        assert failure is not None
        if first and self.on_failure is not None:
            self.on_failure(failure)
        return failure

    def reopen(self) -> Journal:
        """Open again for appending what comes after the end (an undo, a note); use as a context.

        Only for a journal this object wrote and closed itself: it ends with a whole line,
        so there is nothing to check or cut, unlike :meth:`open_existing`.
        """
        with self._lock:
            if self._fd is None:
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        if self._tee is None:
            self._open_tee()
        return self

    @property
    def closed(self) -> bool:
        return self._fd is None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- internals (called with the lock held) ---------------------------------

    def _flush_locked(self) -> None:
        self._cancel_timer()
        if self._fd is None:
            return
        self._write_pending()
        if self._unsynced or self._syncing:  # flush() and close() promise it is on disk now
            os.fsync(self._fd)
            self._unsynced = False

    def _write_pending(self) -> None:
        if self._pending and self._fd is not None:
            _write_all(self._fd, self._copied(b"".join(self._pending)))  # sealed when queued
            self._pending.clear()
            self._pending_bytes = 0
            self._unsynced = True

    def _seal(self, data: bytes) -> bytes:
        """``data`` (whole lines) with each line's chain hash; called in the order lines are written."""
        return data if self._chain is None else self._chain.seal(data)

    def _copied(self, sealed: bytes) -> bytes:
        """``sealed`` as it goes to disk, handed to the sinks too (a deque append: never waits)."""
        if self._tee is not None:
            self._tee.put(sealed)
        return sealed

    def _open_tee(self, first: bytes = b"") -> None:
        from .. import sinks

        self._tee = sinks.tee_for(self.session_id)
        if self._tee is not None and first:
            self._tee.put(first)

    @property
    def chain_head(self) -> str:
        """The last line's chain link ("" for an unchained journal)."""
        return self._chain.head.decode("ascii") if self._chain is not None else ""

    def _schedule_flush(self) -> None:
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            timer = threading.Timer(OUTPUT_FLUSH_SECONDS, self._timer_fired)
            timer.daemon = True
            timer.start()
            self._timer = timer
        else:
            self._timer = loop.call_later(OUTPUT_FLUSH_SECONDS, self._timer_fired, True)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _timer_fired(self, on_loop: bool = False) -> None:
        try:
            self._flush_batch(on_loop)
        except OSError as exc:
            self._failed(exc)  # nobody awaits a timer: the session hears of it through on_failure

    def _flush_batch(self, on_loop: bool) -> None:
        with self._lock:
            self._timer = None
            if self._fd is None:
                return
            self._write_pending()
            if not self._unsynced:
                return
            if not on_loop:
                os.fsync(self._fd)
                self._unsynced = False
                return
            if self._syncing:
                return  # still unsynced: the next batch's timer (or close) syncs it
            # An fsync of a few MB of output takes 10-30 ms: not on the event loop. A copy of
            # the descriptor keeps the file open for the thread whatever close() does meanwhile.
            copy = os.dup(self._fd)
            self._unsynced = False
            self._syncing = True
        threading.Thread(target=self._sync_copy, args=(copy,), name="journal-fsync", daemon=True).start()

    def _sync_copy(self, fd: int) -> None:
        try:
            os.fsync(fd)
        except OSError as exc:
            with self._lock:
                self._unsynced = True
            self._failed(exc)
        finally:
            os.close(fd)
            with self._lock:
                self._syncing = False


# --- reading -------------------------------------------------------------------


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
    header = _read_header(path, first[:-1])
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
            _decode_into(events, problems, path, number, line[:-1])
        return False
    # The last line, without its newline: complete but unterminated, or torn by a crash.
    if _decode_into(events, [], path, number, line):
        problems.append(f"{path}:{number}: the last line had no newline; it was kept")
        return False
    cut = f"{path}:{number}: the last line was cut off ({len(line)} bytes, a crash mid-write); dropped"
    problems.append(cut)
    return True


_TAIL_BLOCK = 64 * 1024  # read backwards in blocks this size to find the last line


def _read_ends(path: Path) -> tuple[dict[str, Any], tuple[int, bytes] | None]:
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
    header = _read_header(path, first[:-1])
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


# An output line exactly as ``_encode_output`` writes it. A line that matches decodes (as
# JSON, then ``_output_event``) to an event built from these groups alone, so it needs no
# decoding unless it ends in a tail; any other line takes the general path, and so gets
# the very same event or complaint as in ``load``. ASCII digits only (``\d`` is Unicode).
_OUTPUT_LINE = re.compile(
    r'\{"kind":"output","at":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})\.([0-9]{6})Z",'
    r'"step_id":"([^"\\\x00-\x1f]*)","seq":(-?(?:0|[1-9][0-9]{0,99})),"stream":"([^"\\\x00-\x1f]*)",'
    r'"text":"((?:[^"\\\x00-\x1f]++|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*+)"'
    r'(?:,"h":"[0-9a-f]{8}-[0-9a-f]{24}")?\}\n'  # the chain hash (core/journal_chain.py), if any
)


class _OutputRun:
    """Output lines of one step in a row, as matched: counted, the last ones kept."""

    __slots__ = ("count", "last_seq", "step_id", "tail")

    def __init__(self, step_id: str, seq: int) -> None:
        self.step_id = step_id
        self.count = 0
        self.last_seq = seq
        self.tail: deque[re.Match[str]] = deque(maxlen=TAIL_LINES)

    def tail_lines(self) -> list[TailLine]:
        return [TailLine(int(m[4]), sys.intern(m[5]), _match_text(m), _match_at(m)) for m in self.tail]


def _match_text(m: re.Match[str]) -> str:
    """The ``text`` of a matched output line, decoded as ``json`` decodes it."""
    raw = m[6]
    return raw if "\\" not in raw else str(_json_decode(f'"{raw}"'))


def _match_at(m: re.Match[str]) -> float:
    """The ``at`` of a matched output line; its second was checked when it was matched."""
    whole = _second_start(m[1])
    assert whole is not None
    return (whole * 1_000_000 + int(m[2])) / 1_000_000


def _fold_lines(path: Path, handle: BinaryIO) -> FoldedJournal:
    folder = StateFolder()
    first = handle.readline()
    if not first.endswith(b"\n"):
        fragment = _only_fragment(path, first)
        return FoldedJournal(fragment.header, folder.state, fragment.torn_tail, fragment.problems, path)
    header = _read_header(path, first[:-1])
    problems: list[str] = []
    torn = False
    number = 1
    run: _OutputRun | None = None
    match = _OUTPUT_LINE.fullmatch
    seconds = _second_starts
    decoded: list[Event] = []
    damage = _DamageLog()
    for line in handle:
        number += 1
        try:
            m = match(line.decode("utf-8"))
        except UnicodeDecodeError:
            m = None
        if m is not None and (m[1] in seconds or _second_start(m[1]) is not None):
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
    if fragment.startswith(_HEADER_START) or _HEADER_START.startswith(fragment):
        problem = f"{path}:1: the journal header was cut off (a crash while the session started)"
        return LoadedJournal({}, [], True, [problem], path)
    raise JournalError(f"{path}: not a runbook-tui session journal (no header line)")


def _read_header(path: Path, line: bytes) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("app") != APP or not isinstance(header.get("schema"), int):
        raise JournalError(f"{path}:1: not a runbook-tui session journal (the first line is not its header)")
    if header["schema"] > SCHEMA_VERSION:
        raise JournalError(
            f"{path}:1: written with journal schema {header['schema']} by runbook-tui "
            f"{header.get('version', '?')}; this version reads schema {SCHEMA_VERSION}: upgrade runbook-tui"
        )
    return header


def _decode_into(events: list[Event], problems: list[str], path: Path, number: int, line: bytes) -> bool:
    try:
        data = _json_decode(line.decode("utf-8"))
        if not isinstance(data, dict):
            raise EventDecodeError("not a JSON object")
        event = _output_event(data) if data.get("kind") == "output" else None
        events.append(event if event is not None else from_dict(data))
    except UnknownEventKind as exc:  # additive: a newer version's event, skipped and counted, not damage
        problems.append(f"{path}:{number}: {exc} (written by a newer version); skipped")
        return True
    except (ValueError, EventDecodeError) as exc:
        problems.append(f"{path}:{number}: unreadable event, skipped ({exc})")
        return False
    return True


_json_decode = json.JSONDecoder().decode
_OUTPUT_KEYS = frozenset({"kind", "at", "step_id", "seq", "stream", "text"})
_OUTPUT_KEYS_CHAINED = _OUTPUT_KEYS | {"h"}
_second_starts: dict[str, int] = {}  # "YYYY-MM-DDTHH:MM:SS" -> whole seconds since the epoch


def _output_event(data: dict[str, Any]) -> OutputLine | None:
    """The hot path of resume: the same event as ``from_dict``, or None to let it decide (and complain)."""
    if data.keys() != _OUTPUT_KEYS and data.keys() != _OUTPUT_KEYS_CHAINED:
        return None
    at, step_id, stream = data["at"], data["step_id"], data["stream"]
    if type(at) is not str or type(step_id) is not str or type(stream) is not str:
        return None
    seconds = _fast_parse_iso(at)
    if seconds is None:
        return None
    # Interned: a million lines share a handful of step ids and stream names.
    return OutputLine(
        step_id=sys.intern(step_id), seq=data["seq"], stream=sys.intern(stream), text=data["text"], at=seconds
    )


def _fast_parse_iso(text: str) -> float | None:
    """``events.parse_iso_utc`` for the ``fast_iso_utc`` form, the date part parsed once per second."""
    if len(text) != 27 or text[19] != "." or text[26] != "Z":
        return None
    micro = text[20:26]
    if not (micro.isascii() and micro.isdigit()):
        return None
    whole = _second_start(text[:19])
    if whole is None:
        return None
    # Integer microseconds divided once: the same float timedelta.total_seconds() gives.
    return (whole * 1_000_000 + int(micro)) / 1_000_000


def _second_start(head: str) -> int | None:
    """Epoch seconds of ``YYYY-MM-DDTHH:MM:SS`` (UTC), parsed once per second; None if it is no date."""
    whole = _second_starts.get(head)
    if whole is None:
        try:
            whole = int(parse_iso_utc(head + "Z"))
        except ValueError:
            return None
        if len(_second_starts) >= 4096:
            _second_starts.clear()
        _second_starts[head] = whole
    return whole
