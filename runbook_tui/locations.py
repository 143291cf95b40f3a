"""The one place that knows where runbook-tui keeps things (platformdirs)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

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


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) with mode 0700 for the leaf."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path
