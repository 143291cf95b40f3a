"""Writing the session journal: one JSONL file per session, appended and fsynced as events happen.

A session *is* its journal. Line 1 is a header with the schema version; every
other line is one event (``codec.encode``). Every event that changes the
state is written and fsynced before ``append`` returns; ``output`` lines are
batched in memory and written at most 200 ms later, and always before any
other event, so the order on disk is the order they happened; their fsync runs
in a thread, off the event loop (``flush``, ``close`` and every other event
still fsync before returning). A crash mid-write leaves at most one torn last
line, which every reader drops and reports (``codec.is_torn``).

Resume reads a journal with ``reader.fold_file`` (the state, folded as the file
streams, never every event) and reopens it with :meth:`Journal.open_existing`,
which looks only at its first and last lines (``reader.read_ends``).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ... import locations
from ..events import Event, OutputLine
from . import chain as journal_chain
from .codec import JournalError, encode, encode_outputs, is_torn, new_header
from .reader import read_ends

SUFFIX = ".jsonl"
OUTPUT_FLUSH_SECONDS = 0.2  # the longest an output line waits in memory
OUTPUT_BUFFER_BYTES = 256 * 1024  # beyond this, batched lines are written (fsync still waits)


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
        self._chain: journal_chain.Chain | None = None  # seals every line written (chain.py)
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
            {**new_header(session_id), **journal_chain.header_fields(chain.key)}, separators=(",", ":")
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
        header, end = read_ends(path)
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
                if is_torn(torn):
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
        line = encode(event)
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
        block = encode_outputs(events)
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
