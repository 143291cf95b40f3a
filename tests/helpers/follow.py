"""What the follow tests share: a real ``run --plain`` whose slow step waits for a gate file."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from helpers.cli import cli_argv
from helpers.engine import write_runbook
from runbook_tui import locations

RUNBOOK = """
runbook: 1
id: slow
title: Slow
procedures:
  - id: main
    title: Main
    steps:
      - id: first
        title: First
        kind: shell
        command: "echo first-line"
      - id: slow
        title: Slow step
        kind: shell
        command: |
          for i in 1 2 3; do echo "before $i"; done
          while [ ! -e {gate} ]; do sleep 0.05; done
          echo after-gate
          exit {code}
"""


def start_runner(tmp_path: Path, code: int = 0) -> tuple[subprocess.Popen[str], Path]:
    """A real ``run --plain`` whose slow step waits for ``tmp_path/go``; returns it and the gate file."""
    gate = tmp_path / "go"
    path = write_runbook(tmp_path, RUNBOOK.format(gate=gate, code=code))
    runner = subprocess.Popen(
        cli_argv("run", str(path), "main", "--plain", "--yes", "--workdir", str(tmp_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    return runner, gate


def wait_for_line(stream: Iterator[str], pattern: str, seen: list[str], timeout: float = 60) -> str:
    """Read lines from ``stream`` until one matches ``pattern`` (each kept in ``seen``)."""
    deadline = time.monotonic() + timeout
    for line in stream:
        seen.append(line)
        if re.search(pattern, line):
            return line
        assert time.monotonic() < deadline, "".join(seen)
    raise AssertionError(f"no line matched {pattern!r}:\n{''.join(seen)}")


def session_files() -> set[str]:
    folder = locations.sessions_dir()
    return {p.name for p in folder.iterdir()} if folder.exists() else set()
