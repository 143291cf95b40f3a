"""File edits: the diff shown before, an atomic write with a backup, and undo.

An edit is planned from the bytes the engineer saw; it is applied only if the
file still holds exactly those bytes, so a change made by someone else since
the diff was shown is never overwritten. Writes go to a temporary file in the
same folder, are fsynced, renamed over the file, and the folder is fsynced, so
a crash leaves either the old file or the new one, never a mix.

Only the bytes change: the file keeps its owner, group and mode. A file that
is not a regular file, has several hard links, or is read-only (unless the step
says ``allow_read_only: true``) is refused before anything is written. Step
files are contained in the working directory (after parameters are filled and
symlinks resolved) unless the step says ``outside_workdir: true``.

Write-ahead: :func:`apply` calls ``journal_ahead`` with the :class:`PlannedWrite`
(path, both sha256s, backup) before it touches the file, so the journal always
knows of an edit before it can have happened; see :func:`reconcile`.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import stat
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import EditError
from .steps.base import AppliedEdit, FileEdit

__all__ = [
    "EditError",
    "PlannedEdits",
    "PlannedWrite",
    "Target",
    "apply",
    "check_editable",
    "file_sha256",
    "journal_ahead_of",
    "plan",
    "reconcile",
    "resolve_target",
    "sha256",
    "undo",
    "unified_diff",
]


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def _lines(data: bytes) -> list[str]:
    lines = data.decode("utf-8", errors="replace").splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        # Say so, as diff(1) does, so a lost final newline is visible in the diff.
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines


def unified_diff(path: Path | str, before: bytes, after: bytes) -> str:
    """A unified diff of ``before`` -> ``after``; "" when equal.

    A relative name gets ``a/`` and ``b/`` (``a/docker-compose.yml``); an absolute
    one (a file outside the working directory) is shown as it is, never ``a//tmp/...``.
    """
    name = str(path)
    old, new = (name, name) if name.startswith("/") else (f"a/{name}", f"b/{name}")
    return "".join(difflib.unified_diff(_lines(before), _lines(after), fromfile=old, tofile=new, n=3))


def plan(
    path: Path,
    before: bytes,
    after: bytes,
    summary: str,
    *,
    name: str | None = None,
    allow_read_only: bool = False,
) -> FileEdit:
    """The edit to confirm: both versions of the file and the diff between them.

    ``name`` is what the diff header calls the file (its path relative to the
    working directory); the path itself when not given.
    """
    diff = unified_diff(name if name is not None else path, before, after)
    return FileEdit(
        path=path, before=before, after=after, diff=diff, summary=summary, allow_read_only=allow_read_only
    )


@dataclass(frozen=True, slots=True)
class Target:
    """The file a step edits: its real path, the name shown for it, and the link it was named by."""

    path: Path  # absolute, every symlink resolved: what is read, written and journalled
    name: str  # relative to the working directory, or absolute when outside it
    link: str = ""  # the name the step gave, when that was (or went through) a symbolic link

    @property
    def label(self) -> str:
        """The real name, and the link's when there is one: what a confirmation shows."""
        return f"{self.name} (through the link {self.link})" if self.link else self.name


def resolve_target(workdir: Path, file: str, *, outside_workdir: bool = False) -> Target:
    """Where ``file`` (already rendered) really is, contained in ``workdir`` unless opted out.

    The check runs on the real path, after parameters are filled and symlinks
    resolved, so neither ``../../x``, ``/abs/x`` nor a link pointing out escapes.
    """
    if not file or "\x00" in file:
        raise EditError(file or "(empty)", "is not a usable file name", "check the step's file:")
    root = Path(os.path.realpath(workdir))
    named = Path(workdir) / file  # an absolute ``file`` replaces the working directory
    real = Path(os.path.realpath(named))
    inside = real.is_relative_to(root)
    if not inside and not outside_workdir:
        raise EditError(
            file,
            f"resolves to {real}, outside the working directory {root}",
            "name a file inside the working directory, or set outside_workdir: true on the step "
            "if editing that file is intended",
        )
    name = real.relative_to(root).as_posix() if inside else str(real)
    # Compared with the real working directory, so only a link in ``file`` itself counts.
    link = file if os.path.normpath(os.path.join(root, file)) != str(real) else ""
    return Target(real, name, link)


def _kind(mode: int) -> str:
    for test, kind in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a regular file"


def check_editable(
    path: Path,
    *,
    allow_read_only: bool = False,
    missing_fix: str = "restore it and retry",
    writing: bool = True,
) -> os.stat_result:
    """The file's status when an edit may replace it; EditError saying why not otherwise.

    With ``writing=False`` only "an existing regular file" is checked: what must
    hold before the file is read at all (reading a FIFO would block).

    Refused: anything but a regular file; a file with several hard links (an
    atomic rename gives the edited name a new inode, so the other names would
    keep the old bytes: a silent split); a read-only file unless the step allows
    it; a file whose owner or group this process could not give back.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise EditError(path, "no such file", missing_fix) from None
    except OSError as exc:
        raise EditError(path, f"cannot read: {exc.strerror or exc}", "check its permissions") from None
    if not stat.S_ISREG(st.st_mode):
        raise EditError(
            path, f"is {_kind(st.st_mode)}, not a regular file", "point the step at the file itself"
        )
    if not writing:
        return st
    if st.st_nlink > 1:
        raise EditError(
            path,
            f"has {st.st_nlink} hard links; an atomic edit would leave the other names with the old contents",
            "edit it by hand, or give it a name of its own first (cp -p FILE FILE.new && mv FILE.new FILE)",
        )
    if not st.st_mode & stat.S_IWUSR and not allow_read_only:
        raise EditError(
            path,
            f"is read-only (mode {stat.S_IMODE(st.st_mode):04o})",
            "make it writable (chmod u+w) if it should change, or set allow_read_only: true on the step",
        )
    if os.geteuid() != 0 and (
        st.st_uid != os.geteuid() or (st.st_gid != os.getegid() and st.st_gid not in os.getgroups())
    ):
        raise EditError(
            path,
            f"belongs to uid {st.st_uid}, gid {st.st_gid}; a rewrite by this user could not keep that owner",
            "run the step as the file's owner (or root)",
        )
    return st


def _read(path: Path, doing: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise EditError(path, f"cannot {doing}: the file no longer exists", "restore it and retry") from None
    except OSError as exc:
        raise EditError(path, f"cannot {doing}: {exc.strerror or exc}", "check its permissions") from None


def write_synced(fd: int, data: bytes, keep: os.stat_result | None) -> None:
    """Write ``data`` to the new file ``fd`` (closing it), with ``keep``'s owner, group and mode, fsynced."""
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        if keep is not None:
            if (keep.st_uid, keep.st_gid) != (os.geteuid(), os.getegid()):
                os.fchown(handle.fileno(), keep.st_uid, keep.st_gid)
            # After fchown, which clears set-id bits: the mode is given back whole.
            os.fchmod(handle.fileno(), stat.S_IMODE(keep.st_mode))
        os.fsync(handle.fileno())


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes, st: os.stat_result) -> None:
    """Replace ``path`` with ``data`` keeping owner, group and mode: temp, fsync, rename, fsync folder."""
    folder = path.parent
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".rbt-tmp", dir=folder)
    except OSError as exc:
        raise EditError(
            path, f"could not write: {exc.strerror or exc}", "the file was left unchanged"
        ) from None
    tmp = Path(tmp_name)
    try:
        write_synced(fd, data, st)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise EditError(
            path, f"could not write: {exc.strerror or exc}", "the file was left unchanged"
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(folder)


def _backup_name(path: Path, backup_dir: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return backup_dir / f"{path.name}.{stamp}.{uuid.uuid4().hex[:8]}.bak"


def _write_backup(path: Path, data: bytes, backup: Path) -> Path:
    backup_dir = backup.parent
    try:
        backup_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # O_EXCL: a backup is never overwritten, even by a name collision.
        fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        fsync_dir(backup_dir)
    except OSError as exc:
        raise EditError(
            path,
            f"could not keep a backup in {backup_dir}: {exc.strerror or exc}",
            "the file was left unchanged",
        ) from None
    return backup


def _real(path: Path) -> Path:
    # Write through a symlink to its target, so the link itself stays a link.
    return Path(os.path.realpath(path))


@dataclass(frozen=True, slots=True)
class PlannedWrite:
    """What :func:`apply` is about to do, journalled before the file is touched."""

    path: Path  # the real path
    backup: Path
    diff: str
    before_sha256: str
    after_sha256: str


JournalAhead = Callable[[PlannedWrite], None]


def journal_ahead_of(ctx: object) -> JournalAhead | None:
    """The step context's write-ahead hook (``edit_planned``), None for a context without one."""
    hook: JournalAhead | None = getattr(ctx, "edit_planned", None)
    return hook


def apply(edit: FileEdit, backup_dir: Path, journal_ahead: JournalAhead | None = None) -> AppliedEdit:
    """Write ``edit.after`` if the file still holds ``edit.before``; keep a backup for undo.

    ``journal_ahead`` is called with the plan after every check and before the
    backup or the file is written; if it raises, nothing is written.
    """
    target = _real(edit.path)
    if not target.exists():
        raise EditError(edit.path, "cannot apply the edit: the file no longer exists", "restore it and retry")
    st = check_editable(target, allow_read_only=edit.allow_read_only)
    current = _read(target, "apply the edit")
    if current != edit.before:
        raise EditError(
            edit.path,
            "changed on disk since the diff was shown (someone else edited it)",
            "review the new contents and run the step again to see a fresh diff",
        )
    planned = PlannedWrite(
        target, _backup_name(target, backup_dir), edit.diff, sha256(current), sha256(edit.after)
    )
    if journal_ahead is not None:
        journal_ahead(planned)
    backup = _write_backup(target, current, planned.backup)
    _atomic_write(target, edit.after, st)
    return AppliedEdit(
        path=target,
        backup=backup,
        diff=edit.diff,
        before_sha256=planned.before_sha256,
        after_sha256=planned.after_sha256,
    )


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of the file's bytes; "" when it does not exist. Other errors raise EditError."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return ""
        return sha256(Path(path).read_bytes())
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise EditError(path, f"cannot read: {exc.strerror or exc}", "check its permissions") from None


def reconcile(path: Path, before_sha256: str, after_sha256: str) -> tuple[str, str]:
    """What became of a planned edit with no recorded result, from the file's hash.

    Returns (found, sha256): "applied" when the file holds the after bytes,
    "not_applied" when it holds the before bytes, "changed" otherwise (including
    a missing file, sha256 ""). An edit that changes nothing never reaches here.
    """
    found = file_sha256(path)
    if found == after_sha256:
        return "applied", found
    if found == before_sha256:
        return "not_applied", found
    return "changed", found


def undo(applied: AppliedEdit) -> str:
    """Restore the backup of ``applied``; refuses if the file changed since. Returns the restored sha256."""
    target = _real(applied.path)
    # Read-only is no reason to refuse here: the hash check below proves the file holds
    # exactly what this session wrote (perhaps with the step's allow_read_only), and
    # the restored file keeps its mode. Links and non-regular files are still refused.
    st = check_editable(target, allow_read_only=True, missing_fix=f"restore it by hand from {applied.backup}")
    current = _read(target, "undo the edit")
    if sha256(current) != applied.after_sha256:
        raise EditError(
            applied.path,
            "changed since the edit was made (sha256 "
            f"{sha256(current)[:12]}, expected {applied.after_sha256[:12]}); not undoing",
            f"undo the later changes first, or restore by hand from {applied.backup}",
        )
    try:
        original = applied.backup.read_bytes()
    except OSError as exc:
        raise EditError(
            applied.path,
            f"the backup {applied.backup} cannot be read: {exc.strerror or exc}",
            "restore by hand",
        ) from None
    if sha256(original) != applied.before_sha256:
        raise EditError(
            applied.path,
            f"the backup {applied.backup} does not match the file as it was before the edit",
            "restore by hand from version control",
        )
    _atomic_write(target, original, st)
    return sha256(original)


class PlannedEdits:
    """Edits shown for confirmation, kept so that the edit applied is the one the engineer saw.

    An edit runner remembers what ``plan_edit`` returned and ``run`` takes it
    back: if the file changed while the confirmation was on screen, applying
    that edit is refused instead of silently writing a freshly planned one.
    """

    def __init__(self) -> None:
        self._edits: dict[tuple[str, str, str], FileEdit] = {}

    @staticmethod
    def _key(step_id: str, spec: object, path: Path) -> tuple[str, str, str]:
        return step_id, repr(spec), os.path.realpath(path)

    def remember(self, step_id: str, spec: object, path: Path, edit: FileEdit | None) -> FileEdit | None:
        """Keep ``edit`` (or forget an older one when None) and return it."""
        key = self._key(step_id, spec, path)
        self._edits.pop(key, None)
        if edit is not None:
            self._edits[key] = edit
        return edit

    def take(self, step_id: str, spec: object, path: Path) -> FileEdit | None:
        """The edit planned for this step and file, removed from the store; None if none was."""
        return self._edits.pop(self._key(step_id, spec, path), None)
