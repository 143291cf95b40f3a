"""End to end in a real terminal: tmux at 80x24 runs ``runbook-tui``; keys in, screen text out."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.tmux import CLI, Terminal
from helpers.ui_fixtures import write_run_runbook

if shutil.which("tmux") is None and not os.environ.get("CI"):
    pytest.skip("tmux is not installed (CI installs it)", allow_module_level=True)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[tuple[Terminal, Path]]:
    folder = tmp_path / "runbooks"
    write_run_runbook(folder, "http://127.0.0.1:9/health", "http://127.0.0.1:9/ok")
    data = tmp_path / "data"
    name = f"rbt-e2e-{uuid.uuid4().hex[:8]}"
    env = (
        f"RUNBOOK_TUI_DATA_DIR={data} RUNBOOK_TUI_CONFIG_DIR={tmp_path / 'config'} "
        f"TERM=xterm-256color COLORTERM=truecolor"
    )
    command = f"cd {folder} && env {env} {CLI} --runbooks {folder}"
    subprocess.run(["tmux", "new-session", "-d", "-x", "80", "-y", "24", "-s", name, command], check=True)
    try:
        yield Terminal(name), data
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def test_filter_open_run_a_step_and_quit_in_a_real_terminal(terminal: tuple[Terminal, Path]) -> None:
    term, data = terminal
    screen = term.wait_for("UI Test Rollback")  # the library is read off the event loop
    assert "LIVE" in screen and "Filter" in screen
    term.keys(*"ui-dri")
    screen = term.wait_for("1 of ")
    assert "UI Test Rollback" in screen and "connectin" not in screen
    term.keys("Enter")
    screen = term.wait_for("which row matches")
    assert "Health check" in screen and "Slow pages" in screen
    assert all(len(line) <= 80 for line in screen.splitlines())
    term.keys("2")  # procedure 2: the slow one
    screen = term.wait_for("Checklist")
    assert "Sleep a long time" in screen and "After the sleep" in screen
    # The window runs from opening the procedure (one clock, core/engine/windows.py); no step has run.
    # The countdown appears once the session has started (its worker, after the screen's
    # first frame, which says "window 01:00, starts with the session"): wait for it.
    screen = term.wait_for("/01:00")
    assert re.search(r"window 00:0\d/01:00", screen), screen
    term.keys("Down", "r")
    screen = term.wait_for("1 lines")
    assert any("✔" in line and "After the sleep" in line for line in screen.splitlines()), screen
    assert "passed" in screen
    term.keys("C-q")
    deadline = time.monotonic() + 10
    while term.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    journals = list((data / "sessions").glob("*.jsonl"))
    assert len(journals) == 1 and '"step_id":"after"' in journals[0].read_text().replace(" ", "")


HANGS = """
runbook: 1
id: hangs
title: Hangs
procedures:
  - id: main
    title: Main
    steps:
      - id: slow
        title: Slow
        kind: shell
        command: "echo $$ > slow.pid; echo waiting; sleep 60"
"""


def test_an_ssh_drop_stops_the_step_and_leaves_the_session_to_resume(tmp_path: Path) -> None:
    (tmp_path / "hangs.yaml").write_text(HANGS)
    data = tmp_path / "data"
    name = f"rbt-hup-{uuid.uuid4().hex[:8]}"
    env = f"RUNBOOK_TUI_DATA_DIR={data} RUNBOOK_TUI_CONFIG_DIR={tmp_path / 'config'} TERM=xterm-256color"
    command = f"cd {tmp_path} && exec env {env} {CLI} open hangs.yaml main --workdir {tmp_path}"
    subprocess.run(["tmux", "new-session", "-d", "-x", "80", "-y", "24", "-s", name, command], check=True)
    term = Terminal(name)
    try:
        term.wait_for("Slow")
        term.keys("r")
        deadline = time.monotonic() + 20
        while not (tmp_path / "slow.pid").exists():
            assert time.monotonic() < deadline, f"the step never started; the screen was:\n{term.screen()}"
            time.sleep(0.1)
        term.wait_for("1 lines")  # "waiting" reached the log pane
        app_pid = int(
            subprocess.run(
                ["tmux", "display-message", "-p", "-t", name, "#{pane_pid}"], capture_output=True, text=True
            ).stdout
        )
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)  # the SSH drop: SIGHUP
    deadline = time.monotonic() + 30
    while _alive(app_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(app_pid), "the app outlived its terminal"
    assert not _alive(int((tmp_path / "slow.pid").read_text())), "the step's command outlived the terminal"
    from runbook_tui.core.journal import load
    from runbook_tui.core.journal.fold import fold

    (journal,) = (data / "sessions").glob("*-hangs-*.jsonl")
    state = fold(load(journal).events)
    assert state.outcome is None  # left open: 'runbook-tui resume' continues it
    assert "the terminal hung up" in state.step("slow").tail[-1].text


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") < 0  # a zombie has gone
