"""The app runs a fleet step today without a per-host grid: the host lines reach the log."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from engine_helpers import write_runbook
from ui_helpers import run_screen, until

from runbook_tui.core.events import StepStatus
from runbook_tui.core.loader import load_runbook
from runbook_tui.ui.app import AppOptions, RunbookApp

pytestmark = pytest.mark.timeout(180)


async def test_the_app_runs_a_fleet_step_and_shows_each_hosts_lines(
    tmp_path: Path, fleet_inventory: Path
) -> None:
    path = write_runbook(
        tmp_path,
        f"""
        runbook: 1
        id: fleet-ui
        title: Fleet UI
        inventory: {fleet_inventory}
        procedures:
          - id: main
            title: Main
            steps:
              - id: hello
                title: Say hello on web
                kind: shell
                targets: web
                command: echo "hello from ${{SSH_CONNECTION% *}}"
        """,
    )
    app = RunbookApp(
        AppOptions(
            runbook=load_runbook(path),
            procedure="main",
            workdir=tmp_path,
            probe_signals=False,
            find_entries=lambda dirs: [],
        )
    )
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await run_screen(pilot)
        await pilot.press("r")
        await until(pilot, lambda: screen.state.step("hello").status is StepStatus.PASSED, timeout=120)
        hosts = screen.state.step("hello").hosts
        assert sorted(hosts) == ["web1", "web2", "web3"]
        tail = [line.text for line in screen.state.step("hello").tail]
        assert any(t.startswith("[web2] hello from") for t in tail)
