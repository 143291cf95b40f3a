"""Files written on request (``report -o``, ``import -o``): whole or not at all, changing nothing else.

The rules, the same for every command that takes ``-o PATH``:

- A symbolic link is written through: its target gets the new contents and the
  link stays a link (the file is replaced in the target's real folder).
- Anything that exists and is not a regular file (a character device such as
  ``/dev/null``, a FIFO, a directory, a socket) is refused, exit 2: replacing it
  with a regular file would change a path this command did not create.
- An existing regular file keeps its owner, group and mode; one with several
  hard links is refused (a rename would split it from its other names).
- A new file gets the usual mode (0666 less the umask), like a shell redirection.

The write goes to a temporary file in the same folder, is fsynced, renamed into
place, and the folder is fsynced.
"""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path

from .edits import fsync_dir, write_synced
from .errors import RunbookTuiError

__all__ = ["OutputFileError", "write_output"]


class OutputFileError(RunbookTuiError):
    """``-o PATH`` cannot be written safely; the message names the path and the fix."""

    exit_code = 2


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def _existing(path: Path, real: Path) -> os.stat_result | None:
    """The status of the file to replace (None when there is none yet); refuses what must not be replaced."""
    try:
        st = os.stat(real)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise OutputFileError(f"{path}: cannot check it ({exc.strerror or exc}); choose another -o") from None
    shown = f"{path} (a link to {real})" if real != Path(os.path.abspath(path)) else str(path)
    if not stat.S_ISREG(st.st_mode):
        raise OutputFileError(
            f"{shown} is {_kind(st.st_mode)}, not a regular file; it was left alone. "
            "Give -o the path of a file (or leave -o out to print to standard output)"
        )
    if st.st_nlink > 1:
        raise OutputFileError(
            f"{shown} has {st.st_nlink} hard links; replacing it would split it from its other names. "
            "Choose another -o, or remove the other links first"
        )
    return st


def write_output(path: Path, text: str, *, what: str = "the output") -> Path:
    """Write ``text`` (UTF-8) to ``path`` by the rules above; returns the real path written.

    Raises :class:`OutputFileError` (exit 2) with the path and the fix; on any
    failure the path is as it was and no temporary file is left.
    """
    real = Path(os.path.realpath(path))
    st = _existing(path, real)
    folder = real.parent
    if not folder.is_dir():
        raise OutputFileError(f"{path}: the folder {folder} does not exist; create it or choose another -o")
    tmp = folder / f".{real.name}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        # A new file gets 0666 less the umask, as a redirection would; an old one keeps its mode.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if st else 0o666)
        write_synced(fd, text.encode("utf-8"), st)
        os.replace(tmp, real)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        owned = isinstance(exc, PermissionError) and st is not None
        keep = " (keeping its owner needs its owner or root)" if owned else ""
        raise OutputFileError(
            f"{path}: cannot write {what} ({exc.strerror or exc}){keep}; it was left as it was"
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(folder)
    return real
