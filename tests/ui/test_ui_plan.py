"""Pilot tests of the app's plan (p), retry of a failed step (r) and run-from (F): real bash, real journal."""

from __future__ import annotations

import hashlib
from pathlib import Path

from helpers.engine import write_runbook
from helpers.ui import run_screen, until
from textual.widgets import Static

from runbook_tui.core.events import StepStatus
from runbook_tui.core.journal import load
from runbook_tui.core.journal.fold import fold
from runbook_tui.core.loader import load_runbook
from runbook_tui.ui.app import AppOptions, RunbookApp
from runbook_tui.ui.screens.confirm import ConfirmModal
from runbook_tui.ui.screens.plan import PlanScreen
from runbook_tui.ui.widgets.step_list import StepList

CARGO = '[package]\nname = "a"\n\n[features]\ndefault = ["strict", "fast"]\nstrict = []\nfast = []\n'

RUNBOOK = """
runbook: 1
id: uiplan
title: UI plan
procedures:
  - id: main
    title: Main
    steps:
      - id: pick-version
        title: Pick the version
        kind: shell
        command: TARGET_VERSION=v1.2.3
      - id: features
        title: Drop strict
        kind: cargo_features
        remove: [strict]
      - id: flaky
        title: Flaky
        kind: shell
        command: |
          echo "$TARGET_VERSION" >> seen.txt
          test -e fixed
"""


def _app(tmp_path: Path) -> tuple[RunbookApp, Path]:
    work = tmp_path / "work"
    work.mkdir()
    (work / "Cargo.toml").write_text(CARGO)
    path = write_runbook(tmp_path, RUNBOOK)
    options = AppOptions(
        runbook=load_runbook(path),
        procedure="main",
        workdir=work,
        probe_signals=False,
        find_entries=lambda d: [],
    )
    return RunbookApp(options), work


async def test_p_shows_the_plan_changing_nothing_and_a_runs_it_then_r_retries_a_failed_step(
    tmp_path: Path,
) -> None:
    app, work = _app(tmp_path)
    before = hashlib.sha256((work / "Cargo.toml").read_bytes()).hexdigest()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await run_screen(pilot)
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen) and app.screen.plan is not None)
        text = str(app.screen.query_one("#plan-text", Static).render())
        assert '+default = ["fast"]' in text and "TARGET_VERSION=v1.2.3" in text
        assert hashlib.sha256((work / "Cargo.toml").read_bytes()).hexdigest() == before
        assert not (work / "seen.txt").exists()
        await pilot.press("a")  # run the procedure from the plan
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))  # the edit still asks
        await pilot.press("end", "y")  # yes counts once the whole diff has been on screen
        await until(pilot, lambda: screen.state.step("flaky").status is StepStatus.FAILED, timeout=30)
        assert screen.state.plans and screen.state.plans[0].by == "engineer"
        screen.query_one("#steps", StepList).select_step("flaky")
        await pilot.pause()
        note = str(screen.query_one("#log-note", Static).render())
        assert "uses TARGET_VERSION=v1.2.3 from step 1" in note
        (work / "fixed").touch()
        await pilot.press("r")
        await until(pilot, lambda: screen.state.step("flaky").status is StepStatus.PASSED, timeout=30)
        assert screen.state.step("flaky").attempts == 2
        journal = screen.session.journal_path
    state = fold(load(journal).events)
    assert [type(r).__name__ for r in state.restarts] == ["RetryRequested"]
    assert (work / "seen.txt").read_text() == "v1.2.3\nv1.2.3\n"


async def test_f_runs_again_from_the_selected_step_journalled(tmp_path: Path) -> None:
    app, work = _app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await run_screen(pilot)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.press("end", "y")  # yes counts once the whole diff has been on screen
        await until(pilot, lambda: screen.state.step("flaky").status is StepStatus.FAILED, timeout=30)
        (work / "fixed").touch()
        screen.query_one("#steps", StepList).select_step("pick-version")
        await pilot.pause()
        await pilot.press("F")
        await until(pilot, lambda: screen.state.step("flaky").status is StepStatus.PASSED, timeout=30)
        assert screen.state.step("pick-version").attempts == 2
        journal = screen.session.journal_path
    state = fold(load(journal).events)
    run_from = [r for r in state.restarts if type(r).__name__ == "RunFrom"]
    assert run_from and list(run_from[0].rerun) == ["pick-version", "features", "flaky"]
