"""Whole commands in a real 80x24 terminal (tmux): a six-line command, and the seed's
wrapped feature-flag command in drill mode, where the drill frame takes two columns."""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path

from helpers.paths import REPO_ROOT
from helpers.tmux import CLI, Terminal  # skips the module too when tmux is missing

ROOT = REPO_ROOT  # this checkout, not whichever one is installed
SIX = """\
runbook: 1
id: six-lines
title: Six-line rollback
procedures:
  - id: main
    title: Roll back the api
    steps:
      - id: back
        title: Previous images, restarted
        kind: shell
        description: Pulls, stops, retags and starts again, in this order.
        command: |
          docker compose pull api worker
          docker compose stop api worker
          docker compose rm -f api worker
          docker tag api:previous api:current
          docker compose up -d api worker
          curl -fsS http://127.0.0.1:8080/health
"""


def detail(screen: str) -> str:
    """The step detail pane's text (right of the checklist), lines joined by spaces."""
    rows = [re.split(r"││|││", line, maxsplit=1) for line in screen.splitlines()]
    right = [row[1].strip(" │▐") for row in rows if len(row) == 2]
    return " ".join(" ".join(right).split())


def start(tmp_path: Path, args: str, name: str) -> Terminal:
    env = (
        f"RUNBOOK_TUI_DATA_DIR={tmp_path / 'data'} RUNBOOK_TUI_CONFIG_DIR={tmp_path / 'config'} "
        f"TERM=xterm-256color COLORTERM=truecolor PYTHONPATH={ROOT}"
    )
    command = f"cd {tmp_path} && exec env {env} {CLI} {args}"
    subprocess.run(["tmux", "new-session", "-d", "-x", "80", "-y", "24", "-s", name, command], check=True)
    return Terminal(name)


def test_a_six_line_command_is_whole_at_80x24(tmp_path: Path) -> None:
    (tmp_path / "six.yaml").write_text(SIX)
    name = f"rbt-six-{uuid.uuid4().hex[:8]}"
    term = start(tmp_path, f"open six.yaml main --workdir {tmp_path}", name)
    try:
        screen = term.wait_for("Previous images")
        screen = term.wait_for("curl -fsS")
        for line in SIX.split("command: |\n")[1].splitlines():
            assert line.strip() in screen, screen
        assert "v shows the whole command" not in screen
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def test_the_seeds_wrapped_command_is_whole_in_drill_mode_at_80x24(tmp_path: Path) -> None:
    name = f"rbt-flag-{uuid.uuid4().hex[:8]}"
    term = start(tmp_path, "drill strict-connection-flow feature-flag-toggle", name)
    try:
        term.wait_for("DRILL", timeout=60)
        term.wait_for("Checklist")
        term.keys("Down", "Down")
        screen = term.wait_for("Disable feature flag globally")
        screen = term.wait_for("--scope=global")
        command = "./scripts/feature-flags.sh disable strict-connection-flow --scope=global"
        assert command in detail(screen), screen
        assert "v shows the whole command" not in screen
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
