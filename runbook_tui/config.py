"""The user's settings: a TOML file at ``locations.config_file()``.

```toml
# ~/.config/runbook-tui/config.toml
runbook_dirs = ["~/runbooks", "/srv/team-runbooks"]   # added to the library
refresh = 10          # log pane repaints a second while output floods (over SSH: bytes)
low_bandwidth = false # true: the --low-bandwidth display on every start
sessions_dir = "/srv/runbook-tui/sessions"  # a team folder (setgid 2770, one group); default: private
chain_key = "/srv/team/runbook-tui-chain.key"          # the journal chain key (a team's shared one)

[[sinks]]                                             # a copy of every journal event, as it happens
type = "syslog"                                       # syslog (RFC 5424) or http (JSON lines)
address = "tcp://logs.example:6514"                   # unix:///dev/log, tcp://host:port, udp://host:port
```

A missing file means the defaults. A file that is there but wrong is an error
that names the file, the line and the fix; it is never ignored, because a
silently dropped runbook folder is a runbook nobody finds at 3 a.m.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import locations
from .core.errors import RunbookTuiError

KNOWN_KEYS = ("runbook_dirs", "refresh", "low_bandwidth", "sessions_dir", "chain_key", "sinks")
REFRESH_RANGE = (1.0, 60.0)  # repaints a second: fewer is a frozen pane, more gains nothing


class ConfigError(RunbookTuiError):
    """The configuration file exists but cannot be used."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class Config:
    """Settings read from the config file."""

    runbook_dirs: tuple[Path, ...] = ()  # folders of runbooks added to the library
    path: Path | None = None  # the file they came from, if any
    refresh: float | None = None  # log pane repaints a second while output floods; None: default
    low_bandwidth: bool = False  # the low-bandwidth display (``--low-bandwidth``) by default
    sessions_dir: Path | None = None  # journals' folder (a team folder or a private one); None: default
    chain_key: Path | None = None  # the journal chain key file (core/journal/chain.py); None: the default
    sinks: tuple[dict[str, Any], ...] = ()  # where journal events are copied to (core/sinks.py)


def load_config(path: Path | None = None) -> Config:
    """Read the config file (default ``locations.config_file()``); missing means defaults."""
    path = path or locations.config_file()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the configuration file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the configuration file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{_where(path, exc)}: {_toml_message(exc)}") from None
    return _config(path, text, data)


def _config(path: Path, text: str, data: dict[str, Any]) -> Config:
    for key in data:
        if key not in KNOWN_KEYS:
            from .core.loader import did_you_mean  # the loader (yaml, the model) only for a bad key

            hint = did_you_mean(key, KNOWN_KEYS) or f"; known keys: {', '.join(KNOWN_KEYS)}"
            raise ConfigError(f"{path}:{_line_of(text, key)}: unknown setting {key!r}{hint}")
    dirs = data.get("runbook_dirs", [])
    if not isinstance(dirs, list) or not all(isinstance(d, str) for d in dirs):
        raise ConfigError(
            f"{path}:{_line_of(text, 'runbook_dirs')}: runbook_dirs must be a list of folder paths, "
            'like runbook_dirs = ["~/runbooks"]'
        )
    refresh = data.get("refresh")
    if refresh is not None and (
        isinstance(refresh, bool)
        or not isinstance(refresh, int | float)
        or not REFRESH_RANGE[0] <= refresh <= REFRESH_RANGE[1]
    ):
        low, high = (int(x) for x in REFRESH_RANGE)
        raise ConfigError(
            f"{path}:{_line_of(text, 'refresh')}: refresh must be a number of repaints a second "
            f"from {low} to {high}, like refresh = 10"
        )
    low_bandwidth = data.get("low_bandwidth", False)
    if not isinstance(low_bandwidth, bool):
        raise ConfigError(
            f"{path}:{_line_of(text, 'low_bandwidth')}: low_bandwidth must be true or false, "
            "like low_bandwidth = true"
        )
    sessions = data.get("sessions_dir")
    if sessions is not None and (not isinstance(sessions, str) or not sessions.strip()):
        raise ConfigError(
            f"{path}:{_line_of(text, 'sessions_dir')}: sessions_dir must be a folder path, "
            'like sessions_dir = "/srv/runbook-tui/sessions"'
        )
    chain_key = data.get("chain_key")
    if chain_key is not None and (not isinstance(chain_key, str) or not chain_key.strip()):
        where = f"{path}:{_line_of(text, 'chain_key')}"
        raise ConfigError(f'{where}: chain_key must be a file path, like chain_key = "~/team/chain.key"')
    sinks = data.get("sinks", [])
    if not isinstance(sinks, list) or not all(isinstance(x, dict) for x in sinks):
        raise ConfigError(
            f"{path}:{_line_of(text, 'sinks')}: sinks must be a list of tables: "
            '[[sinks]] with type = "syslog" or "http"'
        )
    return Config(
        tuple(_resolve(path, d) for d in dirs),
        path,
        refresh=None if refresh is None else float(refresh),
        low_bandwidth=low_bandwidth,
        sessions_dir=None if sessions is None else _resolve(path, sessions),
        chain_key=_resolve(path, chain_key) if chain_key else None,
        sinks=tuple(sinks),
    )


def refresh_rate(text: str) -> float:
    """``--refresh N``: repaints a second, checked against the same range as the config key."""
    import argparse

    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not REFRESH_RANGE[0] <= value <= REFRESH_RANGE[1]:
        low, high = (int(x) for x in REFRESH_RANGE)
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of repaints a second, {low} to {high}")
    return value


def _resolve(config_path: Path, entry: str) -> Path:
    """``~`` expands; a relative folder is relative to the config file, not the current directory."""
    folder = Path(entry).expanduser()
    return folder if folder.is_absolute() else config_path.parent / folder


def _where(path: Path, exc: tomllib.TOMLDecodeError) -> str:
    match = re.search(r"at line (\d+), column (\d+)", str(exc))
    return f"{path}:{match.group(1)}:{match.group(2)}" if match else str(path)


def _toml_message(exc: tomllib.TOMLDecodeError) -> str:
    message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
    return f'invalid TOML: {message}; strings need quotes, e.g. runbook_dirs = ["~/runbooks"]'


def _line_of(text: str, key: str) -> int:
    """The line where ``key`` is set (1 when it cannot be found)."""
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"\s*[\"']?{re.escape(key)}[\"']?\s*=", line):
            return number
    return 1
