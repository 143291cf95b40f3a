"""``runbook-tui follow`` in a real terminal: tmux at 80x24 watches a real ``run --plain``."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from helpers.follow import start_runner, wait_for_line
from helpers.paths import REPO_ROOT

if shutil.which("tmux") is None and not os.environ.get("CI"):
    pytest.skip("tmux is not installed (CI installs it)", allow_module_level=True)

ROOT = REPO_ROOT


def capture(name: str) -> str:
    out = subprocess.run(["tmux", "capture-pane", "-p", "-t", name], check=True, capture_output=True)
    return out.stdout.decode()


def wait_for(name: str, text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        screen = capture(name)
        if text in screen:
            return screen
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")
        time.sleep(0.1)


def test_follow_in_tmux_shows_the_running_step_live_then_the_summary(tmp_path: Path) -> None:
    runner, gate = start_runner(tmp_path)
    name = f"rbt-follow-{uuid.uuid4().hex[:8]}"
    try:
        assert runner.stdout is not None
        wait_for_line(runner.stdout, r"slow stdout\| before 3", [])
        # This worktree's code (PYTHONPATH), not whatever the venv's entry point imports.
        env = {
            "PYTHONPATH": str(ROOT),
            "RUNBOOK_TUI_DATA_DIR": os.environ["RUNBOOK_TUI_DATA_DIR"],
            "RUNBOOK_TUI_CONFIG_DIR": os.environ["RUNBOOK_TUI_CONFIG_DIR"],
            "TERM": "xterm-256color",
        }
        assigned = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        command = f"env {assigned} {shlex.quote(sys.executable)} -m runbook_tui follow"
        subprocess.run(["tmux", "new-session", "-d", "-x", "80", "-y", "24", "-s", name, command], check=True)
        screen = wait_for(name, "before 3")
        assert "following" in screen and "'s session" in screen, screen
        assert "Slow step" in screen and "First" in screen, screen
        assert all(len(line) <= 80 for line in screen.splitlines())
        footer = screen.splitlines()[-1]
        assert "Run" not in footer and "Skip" not in footer and "End" not in footer, footer
        subprocess.run(["tmux", "send-keys", "-t", name, "n", "e", "s"], check=True)
        assert runner.poll() is None
        gate.touch()
        screen = wait_for(name, "Session summary")
        assert "following" in screen, screen
        runner.communicate(timeout=60)
        assert runner.returncode == 0
    finally:
        gate.touch()
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
        runner.kill()
        runner.wait()
