"""Real faults of the disk: a tiny tmpfs to fill, a chatty runbook that fills it, a pid check."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

FILL = """\
runbook: 1
id: fill
title: Fill | Rollback
procedures:
  - id: roll
    title: Fill the disk
    steps:
      - id: one
        title: First step
        kind: shell
        command: echo one >> marks.txt
      - id: chatty
        title: Chatty step
        kind: shell
        command: |
          echo $$ > chatty.pid
          echo started >> marks.txt
          i=0
          while [ $i -lt 3000 ]; do echo "line $i of a step that writes more than fits"; i=$((i+1)); done
          if [ ! -f resumed.flag ]; then sleep 60; fi
          echo finished >> marks.txt
      - id: three
        title: Last step
        kind: shell
        command: echo three >> marks.txt
"""


@contextlib.contextmanager
def tmpfs(where: Path, size: str = "64k") -> Iterator[Path]:
    """A real small filesystem at ``where``; skip when this machine does not let us mount."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root/CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")
