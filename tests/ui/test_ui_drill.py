"""Drills in the app behave like headless drills: the drill's watch cap and its fault.

Real drill sandboxes (the bundled runbooks, ConnectIn on the real Docker Engine), the
real app driven by Pilot, and the session's real journal read back afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.engine import write_runbook
from helpers.httpserver import LoopbackServer, Reply
from helpers.ui import run_screen, until
from textual.pilot import Pilot
from textual.widgets import Static

from runbook_tui.commands.drill import drill_options
from runbook_tui.core.drills import DrillLimits, Sandbox, build_sandbox, find_drill, format_score
from runbook_tui.core.drills.debrief import score_journal
from runbook_tui.core.events import OutputLine, StepFinished, StepStarted
from runbook_tui.core.journal import load
from runbook_tui.core.library import resolve_runbook
from runbook_tui.core.loader import load_runbook
from runbook_tui.ui.app import AppOptions, RunbookApp
from runbook_tui.ui.screens.confirm import ConfirmModal
from runbook_tui.ui.screens.procedure import ProcedureScreen
from runbook_tui.ui.screens.quit import QuitModal
from runbook_tui.ui.screens.summary import SummaryScreen
from runbook_tui.ui.session_factory import new_session
from runbook_tui.ui.widgets.step_list import StepList

# One worker at a time under xdist (tests/README.md, 'Running in parallel').
pytestmark = pytest.mark.xdist_group("drill")

WATCH = "monitor-logs"  # ConnectIn app-rollback's `docker compose logs -f api`, 5 minutes


def app_options(sandbox: Sandbox, procedure: str) -> AppOptions:
    """What ``drill RUNBOOK PROCEDURE`` opens the app with, minus the network probes."""
    base = AppOptions(
        runbook=resolve_runbook(sandbox.drill.runbook),
        procedure=procedure,
        probe_signals=False,
        find_entries=lambda dirs: [],
    )
    return drill_options(base, sandbox)


async def end_session(pilot: Pilot[Any]) -> SummaryScreen:
    """e, then finish: the summary, once its score is in."""
    await pilot.press("e")
    await until(pilot, lambda: isinstance(pilot.app.screen, QuitModal))
    await pilot.press("f")
    await until(pilot, lambda: isinstance(pilot.app.screen, SummaryScreen))
    summary = pilot.app.screen
    assert isinstance(summary, SummaryScreen)
    await until(pilot, lambda: summary.score is not None)
    return summary


def attempted(run: ProcedureScreen, step_id: str) -> bool:
    return run.state.step(step_id).attempts > 0


def score_text(summary: SummaryScreen) -> str:
    return str(summary.query_one("#summary-score", Static).render())


@pytest.fixture
def connectin_sandbox(docker_client: Any) -> Iterator[Sandbox]:
    """ConnectIn's drill on the real Docker Engine (v1.4.2 deployed), with a named fault."""
    sandbox = build_sandbox(resolve_runbook("connectin"), "missing-tag", simulated=False)
    try:
        yield sandbox
    finally:
        sandbox.close()


@pytest.mark.slow
@pytest.mark.docker
@pytest.mark.timeout(120)
async def test_a_watch_in_an_app_drill_ends_at_the_drills_limit(connectin_sandbox: Sandbox) -> None:
    options = app_options(connectin_sandbox, "app-rollback")
    limit = find_drill(resolve_runbook("connectin")).watch_limit
    assert options.drill_limits is not None
    assert limit == 10.0 and options.drill_limits.watch == limit  # drill.yaml's, as run --drill takes it
    app = RunbookApp(options)
    async with app.run_test(size=(100, 30)) as pilot:
        run = await run_screen(pilot)
        assert run.state.mode == "drill"
        run.query_one("#steps", StepList).select_step(WATCH)
        await pilot.press("r")
        await until(pilot, lambda: run.state.step(WATCH).status.value == "running")
        # Uncapped, the watch runs 5 minutes: far past this wait.
        await until(pilot, lambda: run.state.step(WATCH).status.value == "passed", timeout=limit + 20)
        summary = await end_session(pilot)
        journal = Path(run.session.journal_path)
        shown = score_text(summary)
    events = load(journal).events
    started = next(e for e in events if isinstance(e, StepStarted) and e.step_id == WATCH)
    finished = next(e for e in events if isinstance(e, StepFinished) and e.step_id == WATCH)
    assert finished.status == "passed" and finished.message == "watched for 10s"
    assert finished.data["duration"] == limit
    assert limit <= finished.data["elapsed"] < limit + 3
    assert limit <= finished.at - started.at < limit + 3
    said = [e.text for e in events if isinstance(e, OutputLine) and e.step_id == WATCH]
    assert "drill: watching for 10s instead of 300s (the drill's watch_limit)" in said
    assert any("api v1.4.2 GET /health" in line for line in said), said[:5]  # the real api's log
    # The summary judges the injected fault, as `drill` prints it after exit.
    fault = connectin_sandbox.fault
    assert fault is not None and options.drill_fault == fault
    assert shown.startswith(format_score(score_journal(journal, fault)) + "\n")
    assert "fault             missing-tag at step restart-api: not met" in shown
    assert "random fault" not in shown  # named on the command line: nothing to reveal


@pytest.mark.slow
async def test_the_summary_scores_a_random_fault_and_reveals_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRILL_HANG_SECONDS", "1")  # the hang fault's stand-in gives up quickly
    sandbox = build_sandbox(resolve_runbook("strict-connection-flow"), "random")
    try:
        fault = sandbox.fault
        assert fault is not None and fault.procedure and fault.fails_step and sandbox.fault_was_random
        failing = fault.fails_step
        options = app_options(sandbox, fault.procedure)
        assert (options.drill_fault, options.drill_fault_random) == (fault, True)
        assert (options.workdir, options.drill_limits) == (sandbox.workdir, sandbox.limits)
        app = RunbookApp(options)
        async with app.run_test(size=(100, 30)) as pilot:
            run = await run_screen(pilot)
            run.query_one("#steps", StepList).select_step(failing)
            await pilot.press("r")
            # Most of the faults' steps are destructive (the step id is typed to go ahead);
            # verify-deployment asks nothing.
            await until(pilot, lambda: isinstance(app.screen, ConfirmModal) or attempted(run, failing))
            if isinstance(app.screen, ConfirmModal):
                await pilot.press(*failing, "enter")
            await until(pilot, lambda: run.state.step(failing).status.value in ("passed", "failed"))
            await until(pilot, lambda: not run.has_running_work)
            summary = await end_session(pilot)
            journal = Path(run.session.journal_path)
            shown = score_text(summary)
    finally:
        sandbox.close()
    expected = format_score(score_journal(journal, fault))
    assert shown.startswith(expected + "\n"), shown
    assert f"fault             {fault.name} at step {failing}: met" in shown
    assert "fault " not in format_score(score_journal(journal))  # without the fault, no such line
    assert f"\nThe random fault was: {fault.name}\n  {fault.summary}\nDebrief: " in shown


def test_a_live_session_watches_as_long_as_the_runbook_says(tmp_path: Path) -> None:
    runbook = resolve_runbook("connectin")
    procedure = runbook.procedures[0]
    limits = DrillLimits(watch=10.0)
    for drill, expected in ((True, limits), (False, None)):
        session = new_session(runbook, procedure, workdir=tmp_path, drill=drill, ask=None, limits=limits)
        try:
            assert session.limits == expected
            assert session.mode == ("drill" if drill else "live")
        finally:
            session.close()


@pytest.mark.timeout(120)
async def test_an_http_step_in_an_app_drill_retries_for_the_drills_retry_limit(tmp_path: Path) -> None:
    """A team drill's retry_limit reaches the app's session as run --drill's does (drill_options)."""
    with LoopbackServer() as server:
        server.route("/health", Reply(503))
        path = write_runbook(tmp_path, HEALTH_RUNBOOK.format(url=server.url("/health")), "payments.yaml")
        folder = tmp_path / "drills" / "payments"
        folder.mkdir(parents=True)
        (folder / "drill.yaml").write_text("drill: 1\nrunbook: payments\nretry_limit: 1s\n")
        runbook = load_runbook(path)
        with build_sandbox(runbook) as sandbox:
            base = AppOptions(
                runbook=runbook, procedure="main", probe_signals=False, find_entries=lambda dirs: []
            )
            options = drill_options(base, sandbox)
            assert options.drill_limits == sandbox.limits == DrillLimits(retry=1.0)
            async with RunbookApp(options).run_test(size=(100, 30)) as pilot:
                run = await run_screen(pilot)
                run.query_one("#steps", StepList).select_step("verify-health")
                await pilot.press("r")
                # Uncapped, the step retries for 60s: past this wait.
                await until(
                    pilot, lambda: run.state.step("verify-health").status.value == "failed", timeout=30
                )
                await end_session(pilot)
                journal = Path(run.session.journal_path)
    events = load(journal).events
    said = [e.text for e in events if isinstance(e, OutputLine) and e.step_id == "verify-health"]
    assert said[0] == "drill: retrying for 1s instead of 60s (the drill's retry_limit)"
    finished = next(e for e in events if isinstance(e, StepFinished) and e.step_id == "verify-health")
    assert finished.message.startswith("answered 503, expected 200 after ")


HEALTH_RUNBOOK = """
runbook: 1
id: payments
title: Payments
procedures:
  - id: main
    title: Main
    steps:
      - id: verify-health
        title: Verify health
        kind: http
        url: {url}
        expect_status: 200
        retry_for: 60s
        retry_interval: 0.4s
"""
