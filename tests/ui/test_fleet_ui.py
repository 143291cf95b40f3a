"""The app runs a fleet step today without a per-host grid: the host lines reach the log."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.engine import write_runbook
from helpers.ui import run_screen, until

from runbook_tui.core.events import StepStatus
from runbook_tui.core.loader import load_runbook
from runbook_tui.ui.app import AppOptions, RunbookApp

pytestmark = pytest.mark.timeout(180)


@pytest.mark.slow
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


def _failing_fleet_app(tmp_path: Path, inventory: Path) -> RunbookApp:
    """web2 fails (told apart by $SSH_CONNECTION), web1 and web3 pass; every host says who it is."""
    from helpers.fleet import fail_on

    path = write_runbook(
        tmp_path,
        f"""
        runbook: 1
        id: fleet-grid
        title: Fleet grid
        inventory: {inventory}
        procedures:
          - id: main
            title: Main
            steps:
              - id: restart
                title: Restart api on web
                kind: shell
                targets: web
                command: |
                  echo "restarting on ${{SSH_CONNECTION% *}}"
                  if {fail_on("web2")}; then echo "api would not stop" >&2; exit 3; fi
                  echo "restarted"
        """,
    )
    return RunbookApp(
        AppOptions(
            runbook=load_runbook(path),
            procedure="main",
            workdir=tmp_path,
            probe_signals=False,
            find_entries=lambda dirs: [],
        )
    )


@pytest.mark.slow
async def test_the_host_grid_lists_failed_hosts_first_and_filters_the_log(
    tmp_path: Path, fleet_inventory: Path
) -> None:
    from runbook_tui.ui.widgets.host_grid import HostGrid
    from runbook_tui.ui.widgets.log_view import LogView

    app = _failing_fleet_app(tmp_path, fleet_inventory)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await run_screen(pilot)
        grid = screen.query_one("#hosts", HostGrid)
        assert grid.display  # a fleet step: the grid is mounted and shown
        await pilot.press("r")
        await until(pilot, lambda: screen.state.step("restart").status is StepStatus.FAILED, timeout=120)
        await until(pilot, lambda: grid.row_count == 3)
        assert grid.hosts[0] == "web2"  # the failed host first
        assert sorted(grid.hosts) == ["web1", "web2", "web3"]
        states = {h: str(grid.get_row(h)[2]) for h in grid.hosts}
        assert states == {"web1": "ok", "web2": "failed", "web3": "ok"}
        assert all(grid.get_row(h)[1] == "1" for h in grid.hosts)  # one batch

        log = screen.query_one("#log", LogView)
        every = list(log.lines)
        assert {line[:6] for line in every if line.startswith("[web")} >= {"[web1]", "[web2]", "[web3]"}

        await pilot.press("h")  # to the grid: the cursor's host (web2) is shown alone
        await until(pilot, lambda: screen.host_filter == "web2")
        await pilot.pause()
        shown = [line for line in log.lines if line.strip()]
        assert shown and all("[web2] " in line for line in shown)
        assert any("api would not stop" in line for line in shown)

        await pilot.press("down")  # the next host
        await until(pilot, lambda: screen.host_filter == grid.hosts[1])
        await pilot.pause()
        other = grid.hosts[1]
        assert all(f"[{other}] " in line for line in log.lines if line.strip())
        assert any("restarted" in line for line in log.lines)

        await pilot.press("escape")  # every host again, back on the checklist
        await until(pilot, lambda: screen.host_filter is None)
        await pilot.pause()
        assert len(log.lines) == len(every)


async def test_a_local_step_shows_no_host_grid(tmp_path: Path) -> None:
    path = write_runbook(
        tmp_path,
        """
        runbook: 1
        id: local
        title: Local
        procedures:
          - id: main
            title: Main
            steps:
              - id: hi
                title: Say hi
                kind: shell
                command: echo hi
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
        assert not screen.query_one("#hosts").display
