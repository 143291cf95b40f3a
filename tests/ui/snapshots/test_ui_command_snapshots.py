"""Whole commands on screen (issue 19): a six-line command at 80x24 and 120x40, the seed's
wrapped feature-flag command in drill mode (the drill frame takes width), and a
confirmation whose command is longer than the screen (yes waits for its end)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.paths import REPO_ROOT
from helpers.snapshots import SIZES, then, unjournaled_session
from helpers.ui_fixtures import fixed_clock
from textual.pilot import Pilot

from runbook_tui.core.loader import load_runbook
from runbook_tui.ui.app import AppOptions, RunbookApp
from runbook_tui.ui.screens.confirm import ConfirmModal
from runbook_tui.ui.screens.preflight import PreflightModal
from runbook_tui.ui.screens.procedure import ProcedureScreen
from runbook_tui.ui.widgets.step_list import StepList

# Local time on screen is UTC in these snapshots (the fixture is in conftest.py).
pytestmark = pytest.mark.usefixtures("utc")

ROOT = REPO_ROOT
SIX = """\
runbook: 1
id: six-lines
title: Six-line rollback
procedures:
  - id: main
    title: Roll back the api
    recovery_window: "< 5 minutes"
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


def app_for(runbook: Any, procedure: str, *, drill: bool = False) -> RunbookApp:
    return RunbookApp(
        AppOptions(
            find_entries=lambda dirs: [],
            clock=fixed_clock,
            probe_signals=False,
            drill=drill,
            runbook=runbook,
            procedure=procedure,
            session_factory=unjournaled_session,
        )
    )


async def started(pilot: Pilot[Any]) -> None:
    for _ in range(100):
        screen = pilot.app.screen
        if isinstance(screen, ProcedureScreen) and screen.state.started_at:
            return
        await pilot.pause(0.05)


@pytest.mark.parametrize("size", SIZES)
def test_six_line_command(snap_compare: Any, size: tuple[int, int], tmp_path: Path) -> None:
    path = tmp_path / "six.yaml"
    path.write_text(SIX)
    app = app_for(load_runbook(path), "main")
    assert snap_compare(app, terminal_size=size, run_before=then(started))


@pytest.mark.parametrize("size", SIZES)
def test_seed_feature_flag_command_in_drill_mode(snap_compare: Any, size: tuple[int, int]) -> None:
    runbook = load_runbook(ROOT / "runbooks" / "strict-connection-flow.yaml")

    async def go_on(pilot: Pilot[Any]) -> None:
        # The seed's ./scripts/feature-flags.sh is not in /tmp: the pre-flight lists it first.
        for _ in range(100):
            if isinstance(pilot.app.screen, PreflightModal):
                break
            await pilot.pause(0.05)
        assert isinstance(pilot.app.screen, PreflightModal)
        await pilot.press("g")

    async def select(pilot: Pilot[Any]) -> None:
        await started(pilot)
        pilot.app.screen.query_one("#steps", StepList).select_step("disable-globally")
        await pilot.pause(0.2)

    async def run_before(pilot: Pilot[Any]) -> None:
        await go_on(pilot)  # before settling: the session's worker waits on the answer
        await then(select)(pilot)

    app = app_for(runbook, "feature-flag-toggle", drill=True)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_confirmation_longer_than_the_screen(snap_compare: Any) -> None:
    command = "\n".join(f"kubectl -n prod rollout undo deploy/svc-{i:02d}" for i in range(30))

    def confirm(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(
            ConfirmModal(
                step_id="undo-all",
                title="Undo every rollout",
                message="Roll back 30 deployments:",
                command=command,
            )
        )

    app = app_for(None, "")
    assert snap_compare(app, terminal_size=(80, 24), run_before=then(confirm))
