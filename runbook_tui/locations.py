"""The one place that knows where runbook-tui keeps things (platformdirs)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import platformdirs

from .core.errors import RunbookTuiError

APP = "runbook-tui"


def data_dir() -> Path:
    """User data: sessions, backups. ``RUNBOOK_TUI_DATA_DIR`` overrides (tests, drills)."""
    override = os.environ.get("RUNBOOK_TUI_DATA_DIR")
    return Path(override) if override else Path(platformdirs.user_data_dir(APP))


def config_dir() -> Path:
    override = os.environ.get("RUNBOOK_TUI_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(APP))


def config_file() -> Path:
    override = os.environ.get("RUNBOOK_TUI_CONFIG")
    return Path(override) if override else config_dir() / "config.toml"


def sessions_dir() -> Path:
    return data_dir() / "sessions"


def backups_dir() -> Path:
    return data_dir() / "backups"


def cache_dir() -> Path:
    """Things worth keeping but safe to lose (the library index). ``RUNBOOK_TUI_CACHE_DIR`` overrides."""
    override = os.environ.get("RUNBOOK_TUI_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir(APP))


def bundled_runbooks_dir() -> Path:
    """The runbooks shipped with the package (``runbooks/`` in a source checkout)."""
    # The package folder itself, not importlib.resources.files(): that is the same folder for
    # an installed package, and importing it (with zipfile) cost ~70 ms of start-up.
    package = Path(__file__).resolve().parent
    packaged = package / "runbooks"
    if packaged.is_dir():
        return packaged
    return package.parent / "runbooks"


class DataFolderError(RunbookTuiError):
    """A folder runbook-tui keeps things in cannot be made or used; the message names it and the fix."""

    exit_code = 2


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) as a 0700 folder, or accept an existing folder as it is.

    An existing folder is tightened to 0700 when it is open to others; when that is not
    allowed (another owner, an immutable folder) it is used anyway with a warning on
    stderr: being unable to tighten a mode must not stop a rollback. Anything in the way
    (a file of that name, no permission to create it) is a :class:`DataFolderError`.
    """
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError:
        raise DataFolderError(_in_the_way(path)) from None
    except NotADirectoryError:
        raise DataFolderError(_in_the_way(path)) from None
    except OSError as exc:
        raise DataFolderError(
            f"{path}: cannot create the folder: {exc.strerror or exc}; {_FIX_HINT}"
        ) from None
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise DataFolderError(f"{path}: cannot use the folder: {exc.strerror or exc}; {_FIX_HINT}") from None
    if not stat.S_ISDIR(mode):
        raise DataFolderError(_in_the_way(path))
    if stat.S_IMODE(mode) & 0o077 and not _shared(mode):
        try:
            os.chmod(path, 0o700)
        except OSError as exc:
            _warn(
                f"{path}: could not make the folder private (mode {stat.S_IMODE(mode):04o}): "
                f"{exc.strerror or exc}; using it as it is. Fix: chmod 700 {path} as its owner"
            )
    return path


_FIX_HINT = "give yourself write access to it, or set RUNBOOK_TUI_DATA_DIR to a folder you can write"
warned: list[str] = []  # what ensure_private_dir said, once per message (tests and the app read it)


def _in_the_way(path: Path) -> str:
    blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), path)
    return (
        f"{path}: cannot create the folder: {blocker} exists and is not a folder; "
        f"move it away (mv {blocker} {blocker}.old) or set RUNBOOK_TUI_DATA_DIR to another folder"
    )


def _shared(mode: int) -> bool:
    """A setgid folder is a team's shared folder (see worklock): its group bits are meant."""
    return bool(mode & stat.S_ISGID)


def _warn(message: str) -> None:
    if message in warned:
        return
    warned.append(message)
    print(f"runbook-tui: warning: {message}", file=sys.stderr)
