"""The real CLI in a subprocess: one way to start it, so every test runs it alike.

Each test's own data, config and cache folders are in ``os.environ`` already (the autouse
``isolated_dirs`` fixture in ``tests/conftest.py``), so the child sees them without being told.
This checkout goes first on ``PYTHONPATH``, so the child runs the code under test even when its
working directory is elsewhere and another runbook_tui is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from helpers.paths import REPO_ROOT
from runbook_tui import locations

CLI: tuple[str, ...] = (sys.executable, "-m", "runbook_tui")


def cli_argv(*args: str) -> list[str]:
    """The argv that runs ``runbook-tui ARGS`` with this interpreter."""
    return [*CLI, *args]


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test's environment plus ``extra``, with this checkout first on ``PYTHONPATH``."""
    env = {**os.environ, **(extra or {})}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def run_cli(
    *args: str,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run ``runbook-tui ARGS`` to the end: text output captured, stdin closed.

    ``env`` adds to (or overrides) the test's environment; it never replaces it.
    """
    return subprocess.run(
        cli_argv(*args),
        capture_output=True,
        text=True,
        cwd=cwd,
        env=cli_env(env),
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        check=check,
    )


def start_cli(*args: str, cwd: str | os.PathLike[str] | None = None) -> subprocess.Popen[bytes]:
    """Start ``runbook-tui ARGS`` in the background, its output discarded and stdin closed."""
    return subprocess.Popen(
        cli_argv(*args),
        cwd=cwd,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )


def wait_for_output(text: str, limit: float = 30.0) -> Path:
    """The test's one journal, once a step has printed the line ``text`` into it; fails after ``limit``."""
    needle = b'"text":"%s"' % text.encode()
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        journals = list(locations.sessions_dir().glob("*.jsonl"))
        if journals and needle in journals[0].read_bytes():
            return journals[0]
        time.sleep(0.05)
    pytest.fail(f"no step printed {text!r} within {limit:.0f} s")
