"""A real terminal: the app or the CLI in a tmux session whose screen a test reads."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

CLI = Path(sys.executable).with_name("runbook-tui")


class Terminal:
    """One detached tmux session running a command at a fixed size."""

    def __init__(self, name: str) -> None:
        self.name = name

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def screen(self) -> str:
        out = subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], check=True, capture_output=True)
        return out.stdout.decode()

    def alive(self) -> bool:
        return subprocess.run(["tmux", "has-session", "-t", self.name], capture_output=True).returncode == 0

    def wait_for(self, text: str, timeout: float = 20.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")
            time.sleep(0.1)
