"""``runbook-tui follow`` in the app (Pilot): a real ``run --plain`` elsewhere, watched read-only."""

from __future__ import annotations

import argparse
from pathlib import Path

from helpers.follow import start_runner, wait_for_line
from helpers.ui import notices, run_screen, until
from textual.widgets import Label

from runbook_tui.commands.app import follow_options
from runbook_tui.core import events as ev
from runbook_tui.core.events import StepStatus
from runbook_tui.core.journal import load
from runbook_tui.core.sessions import latest_unfinished
from runbook_tui.ui.app import RunbookApp
from runbook_tui.ui.screens.summary import SummaryScreen
from runbook_tui.ui.widgets.log_view import LogView

INTENT_KEYS = ["r", "a", "s", "n", "c", "u", "m", "e", "t", "p", "F"]


def header_text(app: RunbookApp) -> str:
    return str(app.screen.query_one("#header-crumbs", Label).render())


async def test_the_followed_session_shows_live_then_its_summary_and_no_intent_acts(tmp_path: Path) -> None:
    runner, gate = start_runner(tmp_path)
    try:
        assert runner.stdout is not None
        wait_for_line(runner.stdout, r"slow stdout\| before 3", [])
        summary = latest_unfinished()
        assert summary is not None
        args = argparse.Namespace(runbooks=[], freeze_gc=False, refresh=None, low_bandwidth=None)
        app = RunbookApp(follow_options(summary, args))
        async with app.run_test(size=(80, 24)) as pilot:
            run = await run_screen(pilot)
            assert run.read_only
            await until(pilot, lambda: run.state.step("slow").status is StepStatus.RUNNING)
            await until(pilot, lambda: "before 3" in run.query_one("#log", LogView).lines)
            assert run.state.step("first").status is StepStatus.PASSED
            assert run.selected_id == "slow"
            assert "following" in header_text(app) and "'s session" in header_text(app)
            shown = {b.binding.action for b in app.active_bindings.values()}
            assert not shown & {"run_step", "run_all", "skip", "note", "end", "mark_done"}, shown
            for key in INTENT_KEYS:
                await pilot.press(key)
                await pilot.pause()
                assert app.screen is run, f"{key} opened {app.screen}"
            assert runner.poll() is None  # still running: what we saw was live
            gate.touch()
            await until(pilot, lambda: isinstance(app.screen, SummaryScreen))
            assert "after-gate" in "\n".join(run.output["slow"])
            assert "following" in header_text(app)
            await pilot.press("u", "t")
            assert isinstance(app.screen, SummaryScreen)
        runner.communicate(timeout=60)
        assert runner.returncode == 0
        kinds = [e.kind for e in load(summary.path).events]
        # Only the runner wrote: no note, skip, end or undo from the follower's keys.
        assert not {"note_added", "step_skipped", "step_marked_done", "edit_undone"} & set(kinds)
        assert kinds.count("session_finished") == 1
        assert isinstance(load(summary.path).events[-1], ev.SessionFinished)
    finally:
        gate.touch()
        runner.kill()
        runner.wait()


async def test_the_app_says_when_the_followed_runner_died_without_finishing(tmp_path: Path) -> None:
    runner, gate = start_runner(tmp_path)
    try:
        assert runner.stdout is not None
        wait_for_line(runner.stdout, r"slow stdout\| before 3", [])
        summary = latest_unfinished()
        assert summary is not None
        args = argparse.Namespace(runbooks=[], freeze_gc=False, refresh=None, low_bandwidth=None)
        app = RunbookApp(follow_options(summary, args))
        async with app.run_test(size=(80, 24)) as pilot:
            run = await run_screen(pilot)
            await until(pilot, lambda: run.state.step("slow").status is StepStatus.RUNNING)
            runner.kill()  # SIGKILL: the session never finishes
            runner.wait()

            def said() -> str:
                return "\n".join(notices(app))

            await until(pilot, lambda: "did not finish" in said(), timeout=30)
            assert f"pid {runner.pid}" in said() and f"runbook-tui resume {summary.id}" in said()
            assert app.screen is run  # the follower stays: a resume elsewhere would show here
    finally:
        gate.touch()
        runner.kill()
        runner.wait()
