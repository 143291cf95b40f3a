"""File edits: the diff shown before, an atomic write with a backup, and undo.

An edit is planned from the bytes the engineer saw; it is applied only if the
file still holds exactly those bytes, so a change made by someone else since
the diff was shown is never overwritten. Writes go to a temporary file in the
same folder, are fsynced, renamed over the file, and the folder is fsynced, so
a crash leaves either the old file or the new one, never a mix.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import tempfile
import time
import uuid
from pathlib import Path

from .errors import RunbookTuiError
from .steps.base import AppliedEdit, FileEdit

__all__ = ["EditError", "PlannedEdits", "apply", "plan", "sha256", "undo", "unified_diff"]


class EditError(RunbookTuiError):
    """A file edit could not be planned, applied or undone; names the file and the fix."""

    exit_code = 1

    def __init__(self, path: Path | str, message: str, fix: str = "") -> None:
        self.path = Path(path)
        self.fix = fix
        text = f"{path}: {message}"
        if fix:
            text += f"; {fix}"
        super().__init__(text)


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
    """A unified diff of ``before`` -> ``after`` with ``a/`` and ``b/`` names; "" when equal."""
    name = str(path)
    return "".join(
        difflib.unified_diff(_lines(before), _lines(after), fromfile=f"a/{name}", tofile=f"b/{name}", n=3)
    )


def plan(path: Path, before: bytes, after: bytes, summary: str) -> FileEdit:
    """The edit to confirm: both versions of the file and the diff between them."""
    return FileEdit(
        path=path, before=before, after=after, diff=unified_diff(path, before, after), summary=summary
    )


def _read(path: Path, doing: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise EditError(path, f"cannot {doing}: the file no longer exists", "restore it and retry") from None
    except OSError as exc:
        raise EditError(path, f"cannot {doing}: {exc.strerror or exc}", "check its permissions") from None


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Replace ``path`` with ``data``: temp file in the same folder, fsync, rename, fsync folder."""
    folder = path.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".rbt-tmp", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise EditError(
            path, f"could not write: {exc.strerror or exc}", "the file was left unchanged"
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(folder)


def _write_backup(path: Path, data: bytes, backup_dir: Path) -> Path:
    try:
        backup_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        backup = backup_dir / f"{path.name}.{stamp}.{uuid.uuid4().hex[:8]}.bak"
        # O_EXCL: a backup is never overwritten, even by a name collision.
        fd = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _fsync_dir(backup_dir)
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


def apply(edit: FileEdit, backup_dir: Path) -> AppliedEdit:
    """Write ``edit.after`` if the file still holds ``edit.before``; keep a backup for undo."""
    target = _real(edit.path)
    current = _read(target, "apply the edit")
    if current != edit.before:
        raise EditError(
            edit.path,
            "changed on disk since the diff was shown (someone else edited it)",
            "review the new contents and run the step again to see a fresh diff",
        )
    mode = os.stat(target).st_mode & 0o7777
    backup = _write_backup(target, current, backup_dir)
    _atomic_write(target, edit.after, mode)
    return AppliedEdit(
        path=edit.path,
        backup=backup,
        diff=edit.diff,
        before_sha256=sha256(edit.before),
        after_sha256=sha256(edit.after),
    )


def undo(applied: AppliedEdit) -> str:
    """Restore the backup of ``applied``; refuses if the file changed since. Returns the restored sha256."""
    target = _real(applied.path)
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
    _atomic_write(target, original, os.stat(target).st_mode & 0o7777)
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
