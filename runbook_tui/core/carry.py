"""Variables carried from step to step, and values captured from a step's output.

A shell step runs in its own ``bash``; what it assigns at its top level (``X=1``,
``export X=1``, ``read X``; not in functions, subshells or pipelines, see
:func:`.shell_syntax.top_level_assignments`) is set for every later step of the
session. The engine does not reach into the shell runner for it: it hands the runner
the command with an ``EXIT`` trap in front (on the first line, so line numbers stay
as written) that writes the names' values, NUL-separated, to a private 0600 file
named in ``RUNBOOK_TUI_CARRY_FILE``; the engine reads that file after the step.

The working directory does not carry: each step starts in its own ``cwd``.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import shell_syntax
from .ansi import strip_ansi
from .model import Capture

CARRY_ENV = "RUNBOOK_TUI_CARRY_FILE"
# Names whose values are never journalled (kept in memory, asked again on resume).
SECRET_LOOKING = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|KEY|CREDENTIAL|PRIVATE|AUTH", re.IGNORECASE)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# bash's own variables and ours: never carried (the working directory does not carry).
_NOT_CARRIED = frozenset(
    {
        "PWD",
        "OLDPWD",
        "PATH",
        "HOME",
        "IFS",
        "OPTIND",
        "OPTARG",
        "REPLY",
        "SHELLOPTS",
        "BASHOPTS",
        "PS4",
        "SHLVL",
        "_",
    }
)
MAX_CAPTURE_LINES = 20_000  # the output kept for a capture pattern (the newest lines)


def secret_looking(name: str) -> bool:
    """True for names like ``API_TOKEN``, ``DB_PASSWORD``, ``SSH_KEY``: their values are not journalled."""
    return SECRET_LOOKING.search(name) is not None


def carried_names(command: str, exclude: Iterable[str] = ()) -> list[str]:
    """The names a step's command assigns at its top level that a later step may use."""
    skip = set(exclude)
    try:
        names = shell_syntax.top_level_assignments(command)
    except Exception:  # an unreadable command carries nothing; the shell reports its own errors
        return []
    return [
        n
        for n in names
        if n not in skip and n not in _NOT_CARRIED and not n.startswith(("BASH", "RUNBOOK_TUI_"))
    ]


def sets_exit_trap(command: str) -> bool:
    """True when the command sets its own EXIT trap (which would replace ours)."""
    return re.search(r"\btrap\b[^\n]*\b(EXIT|0)\b", command) is not None


def wrap(command: str, names: Iterable[str]) -> str:
    """``command`` with an EXIT trap in front that writes each set name and value, NUL-separated."""
    writes = " ".join(f"if [[ -v {n} ]]; then printf '%s\\0%s\\0' {n} \"${{{n}}}\"; fi;" for n in names)
    # One line in front of the command's first line: LINENO and error messages stay as written.
    prefix = (
        f'__runbook_tui_carry() {{ {{ {writes} }} > "${CARRY_ENV}" 2>/dev/null || true; }}; '
        "trap __runbook_tui_carry EXIT; "
    )
    return prefix + command


def new_file() -> Path:
    """A private (0600) empty file for one step's carried values."""
    fd, name = tempfile.mkstemp(prefix="runbook-tui-carry-")
    os.close(fd)
    os.chmod(name, 0o600)
    return Path(name)


def read_file(path: Path) -> dict[str, str]:
    """The name -> value pairs the step's EXIT trap wrote; the file is removed."""
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    finally:
        path.unlink(missing_ok=True)
    parts = data.decode("utf-8", errors="replace").split("\0")
    found: dict[str, str] = {}
    for name, value in zip(parts[0::2], parts[1::2], strict=False):
        if _NAME.fullmatch(name):
            found[name] = value
    return found


def changed(found: Mapping[str, str], before: Mapping[str, str]) -> dict[str, str]:
    """The values that differ from what the step started with."""
    return {k: v for k, v in found.items() if before.get(k) != v}


@dataclass(frozen=True, slots=True)
class Captured:
    """What a capture found: the value, or why there is none."""

    value: str | None
    problem: str = ""


def capture(spec: Capture, lines: Iterable[str]) -> Captured:
    """The first group of ``spec.pattern`` in the output (colours stripped), or the problem."""
    text = "\n".join(strip_ansi(line) for line in lines)
    match = re.search(spec.pattern, text, re.MULTILINE)
    if match is None:
        return Captured(
            None, f"capture {spec.name}: the pattern {spec.pattern!r} matched nothing in the output"
        )
    value = match.group(1)
    if value is None:
        return Captured(None, f"capture {spec.name}: the pattern matched but its group did not")
    return Captured(value)
