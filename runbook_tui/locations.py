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
    """Journals: ``RUNBOOK_TUI_SESSIONS_DIR``, else config's ``sessions_dir``, else ``<data>/sessions``."""
    configured = configured_sessions_dir()
    return configured if configured is not None else data_dir() / "sessions"


def configured_sessions_dir() -> Path | None:
    """The sessions folder the user chose (environment first, then config.toml), or None for the default."""
    override = os.environ.get("RUNBOOK_TUI_SESSIONS_DIR")
    if override:
        return Path(override).expanduser()
    path = config_file()
    if not os.path.exists(path):  # also when its folder cannot be entered (another account's home)
        return None
    from .config import load_config  # config imports this module

    return load_config(path).sessions_dir


def locks_dir() -> Path:
    """Working-directory locks: a team folder's ``locks/`` (shared across accounts), else ``<data>/locks``."""
    folder = sessions_dir()
    return folder / "locks" if is_team_folder(folder) else data_dir() / "locks"


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


# --- a team folder: a sessions folder shared by a Unix group ------------------------------

TEAM_MODE = 0o2770  # setgid (new files get the folder's group), rwx for owner and group, none for others


def is_team_folder(path: Path) -> bool:
    """A setgid folder its group can read, write and enter: journals and locks there are 0660."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISDIR(mode) and bool(mode & stat.S_ISGID) and mode & stat.S_IRWXG == stat.S_IRWXG


def shared_file_mode(folder: Path) -> int:
    """The mode of a journal or lock file made in ``folder``: 0660 in a team folder, else 0600."""
    return 0o660 if is_team_folder(folder) else 0o600


def ensure_sessions_dir() -> Path:
    """The sessions folder, ready to write a journal in, or a :class:`DataFolderError` naming the fix.

    The default folder is private (0700, made if missing). A folder named by
    ``sessions_dir`` / ``RUNBOOK_TUI_SESSIONS_DIR`` is used when it is a team folder
    (setgid, group rwx) or a private folder of this user; anything between (group or others
    can get in but it is not setgid, or it is someone else's) is refused rather than
    changed: a journal holds what was done and said during an incident, and a folder
    another account owns is not ours to chmod.
    """
    configured = configured_sessions_dir()
    if configured is None:
        return ensure_private_dir(data_dir() / "sessions")
    if not configured.exists():
        return ensure_private_dir(configured)
    check_team_or_private(configured)
    return configured


def ensure_locks_dir() -> Path:
    """The locks folder: ``locks/`` in a team folder (made 2770 there), else the private ``<data>/locks``."""
    folder = sessions_dir()
    if not is_team_folder(folder):
        return ensure_private_dir(data_dir() / "locks")
    return _ensure_team_subdir(folder / "locks")


def check_team_or_private(path: Path) -> None:
    """Refuse a configured sessions folder that is neither a team folder nor this user's private one."""
    try:
        st = path.stat()
    except OSError as exc:
        raise DataFolderError(f"{path}: cannot use the sessions folder: {exc.strerror or exc}") from None
    if not stat.S_ISDIR(st.st_mode):
        raise DataFolderError(_in_the_way(path))
    mode = stat.S_IMODE(st.st_mode)
    if is_team_folder(path):
        if mode & stat.S_IRWXO:
            _warn(
                f"{path}: the team folder is open to every account (mode {mode:04o}), not only its group; "
                f"fix: chmod 2770 {path} as its owner"
            )
        return
    mine = st.st_uid == os.geteuid()
    if mine and not mode & 0o077:
        return  # a private folder of this user: works within one account, as the default does
    raise DataFolderError(_not_a_team_folder(path, st, mine))


def _not_a_team_folder(path: Path, st: os.stat_result, mine: bool) -> str:
    mode = stat.S_IMODE(st.st_mode)
    group = _group_name(st.st_gid)
    if group in ("GROUP", _user_name(st.st_uid)):
        group = "TEAMGROUP"  # a user's private group is not the team's: name the placeholder
    if not mine:
        why = f"it belongs to {_user_name(st.st_uid)} (mode {mode:04o}) and is not a team folder"
    elif not mode & stat.S_ISGID:
        why = f"it is open to others (mode {mode:04o}) but not setgid, so journals would not share one group"
    else:
        why = f"it is setgid but its group cannot read, write and enter it (mode {mode:04o})"
    return (
        f"{path}: not used as the sessions folder: {why}. "
        f"A team folder is setgid and group-writable; its owner fixes it with: "
        f"chgrp {group} {path} && chmod 2770 {path} "
        f"(or chmod 700 {path} for a private one, or unset sessions_dir / RUNBOOK_TUI_SESSIONS_DIR)"
    )


def _ensure_team_subdir(path: Path) -> Path:
    """A folder inside a team folder, made 2770 (the umask would take the group's bits away)."""
    try:
        path.mkdir(mode=TEAM_MODE, exist_ok=True)
    except OSError as exc:
        raise DataFolderError(
            f"{path}: cannot create the folder: {exc.strerror or exc}; {_FIX_HINT}"
        ) from None
    try:
        st = path.stat()
        if st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) != TEAM_MODE:
            os.chmod(path, TEAM_MODE)  # ours: we just made it, or made it earlier
    except OSError as exc:
        raise DataFolderError(f"{path}: cannot use the folder: {exc.strerror or exc}") from None
    check_team_or_private(path)
    return path


def _group_name(gid: int) -> str:
    import grp

    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return "GROUP"


def _user_name(uid: int) -> str:
    import pwd

    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"
