"""One live session per working directory: an advisory lock in the data folder.

Two runs in one working directory (even of two runbooks: both can edit one compose
file) would overwrite each other's work. Each live session holds an ``fcntl.flock`` on
``<data>/locks/<sha256 of the workdir's real path>.lock``; the file says who holds it
(operator, host, pid, session id, start time) so a refused second run can name them.

- The kernel drops a ``flock`` when its process dies, however it dies. A lock file that
  still names a holder but is not locked was left by a process that is gone: the next
  session takes it over, and journals that (``lock_taken_over``).
- A clean release empties and removes the file. An acquirer checks, once it holds the
  lock, that the file it locked is still the one at the path (not removed meanwhile).
- In a team's shared data folder (a setgid folder, group-writable) the lock file is made
  0660, so it works across Unix accounts of that group; elsewhere it is 0600.
- ``flock`` is local to one machine (NFS emulates it with fcntl locks at best): the host
  written in the file is how a refusal names a holder elsewhere.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import socket
import stat
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import locations
from .errors import RunbookTuiError
from .events import iso_utc
from .journal import Journal, new_session_id, write_fix

SUFFIX = ".lock"


class WorkdirLocked(RunbookTuiError):
    """Another live session holds the working directory; the message says who and what to do."""

    exit_code = 2

    def __init__(self, message: str, holder: Holder | None) -> None:
        super().__init__(message)
        self.holder = holder


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds (or held) a working directory's lock, as written in the lock file."""

    operator: str
    host: str
    pid: int
    session_id: str
    started: str  # ISO 8601 UTC
    workdir: str

    def describe(self) -> str:
        """``session S of alice@web1 (pid 123 on web1), since 2026-...Z``."""
        return (
            f"session {self.session_id or '?'} of {self.operator or '?'} "
            f"(pid {self.pid} on {self.host or '?'}), since {self.started or '?'}"
        )


def locks_dir() -> Path:
    """Where the lock files live: ``<data>/locks``, or ``locks/`` in a team sessions folder."""
    return locations.locks_dir()


def lock_path(workdir: Path) -> Path:
    """The lock file of ``workdir``, keyed by its real path (symlinks and ``..`` resolved)."""
    real = os.path.realpath(workdir)
    digest = hashlib.sha256(real.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return locks_dir() / f"{digest}{SUFFIX}"


class WorkLock:
    """A held lock on one working directory. :meth:`acquire` it; :meth:`release` when the session ends."""

    def __init__(self, path: Path, fd: int, holder: Holder, taken_over: Holder | None) -> None:
        self.path = path
        self.holder = holder
        # The holder named in a lock file that nobody held any more (a killed process).
        self.taken_over = taken_over
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, workdir: Path, session_id: str, operator: str) -> WorkLock:
        """Lock ``workdir`` for ``session_id`` or raise :class:`WorkdirLocked` naming the holder."""
        folder = locations.ensure_locks_dir()
        mode = 0o660 if _shared(folder) else 0o600
        path = lock_path(workdir)
        holder = Holder(
            operator=operator,
            host=socket.gethostname(),
            pid=os.getpid(),
            session_id=session_id,
            started=iso_utc(time.time()),
            workdir=os.path.realpath(workdir),
        )
        for _ in range(10):  # another process may remove the file between our open and flock
            fd = _open(path, mode)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                previous = _read_holder(fd)
                os.close(fd)
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise WorkdirLocked(_refusal(workdir, path, previous), previous) from None
                raise WorkdirLocked(
                    f"{path}: cannot lock {workdir}: {exc.strerror or exc}; check the data folder", None
                ) from None
            if _same_file(fd, path):
                break
            os.close(fd)  # it was removed by a release meanwhile: lock the new one
        else:
            raise WorkdirLocked(f"{path}: the lock file keeps changing; try again", None)
        taken_over = _read_holder(fd)
        try:
            _write_holder(fd, holder)
        except OSError as exc:
            with contextlib.suppress(OSError):
                path.unlink()
            os.close(fd)
            raise WorkdirLocked(
                f"{path}: cannot write the working directory's lock file: {exc.strerror or exc}. "
                f"{write_fix(path, exc.errno)}, then run it again",
                None,
            ) from None
        return cls(path, fd, holder, taken_over)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Empty and remove the lock file, then unlock: a later session finds nothing stale."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            if _same_file(fd, self.path):
                self.path.unlink()
            os.ftruncate(fd, 0)
        os.close(fd)  # closing drops the flock


def read_holder(workdir: Path) -> Holder | None:
    """Who the lock file of ``workdir`` names (held or stale), or None."""
    try:
        fd = os.open(lock_path(workdir), os.O_RDONLY)
    except OSError:
        return None
    try:
        return _read_holder(fd)
    finally:
        os.close(fd)


def _refusal(workdir: Path, path: Path, holder: Holder | None) -> str:
    who = holder.describe() if holder else "another session (its lock file names nobody)"
    follow = "runbook-tui follow" + (f" {holder.session_id}" if holder and holder.session_id else "")
    return (
        f"{os.path.realpath(workdir)} is in use by {who}; one live session per working directory. "
        f"Watch it with '{follow}', or wait until it ends (lock file {path})"
    )


def _open(path: Path, mode: int) -> int:
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, mode)
    except OSError as exc:
        raise WorkdirLocked(
            f"{path}: cannot open the working directory's lock file: {exc.strerror or exc}; "
            f"give yourself write access to {path.parent} (a shared folder: setgid and group-writable)",
            None,
        ) from None
    with contextlib.suppress(OSError):  # another account's file in a shared folder: its mode stands
        if os.fstat(fd).st_uid == os.geteuid():
            os.fchmod(fd, mode)
    return fd


def _shared(folder: Path) -> bool:
    """A setgid, group-writable data folder is shared by a team: lock files are group-writable."""
    try:
        mode = folder.stat().st_mode
    except OSError:
        return False
    return bool(mode & stat.S_ISGID and mode & stat.S_IWGRP)


def _same_file(fd: int, path: Path) -> bool:
    try:
        now = path.stat()
    except OSError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


def _read_holder(fd: int) -> Holder | None:
    try:
        raw = os.pread(fd, 64 * 1024, 0)
    except OSError:
        return None
    if not raw.strip():
        return None
    try:
        data = json.loads(raw)
        return Holder(
            operator=str(data.get("operator", "")),
            host=str(data.get("host", "")),
            pid=int(data.get("pid", 0)),
            session_id=str(data.get("session_id", "")),
            started=str(data.get("started", "")),
            workdir=str(data.get("workdir", "")),
        )
    except (ValueError, TypeError, AttributeError):
        return Holder("?", "?", 0, "", "", "")  # unreadable: still a holder that was there


def _write_holder(fd: int, holder: Holder) -> None:
    data = (json.dumps(asdict(holder), ensure_ascii=False) + "\n").encode("utf-8", "surrogateescape")
    os.ftruncate(fd, 0)
    os.pwrite(fd, data, 0)
    os.fsync(fd)


def lock_new_journal(runbook_id: str, workdir: Path, operator: str) -> tuple[WorkLock, Journal]:
    """The working directory's lock, then a fresh journal for a new session there.

    A second live session is refused (:class:`WorkdirLocked`) before any journal exists;
    the lock is let go again when the journal cannot be made.
    """
    session_id = new_session_id(runbook_id)
    lock = WorkLock.acquire(workdir, session_id, operator)
    try:
        return lock, Journal.create(session_id)
    except BaseException:
        lock.release()
        raise
