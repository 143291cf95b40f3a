"""Builders shared by the snapshot tests: sizes, apps, pilot steps and journals."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from helpers.ui_fixtures import FIXED_NOW, fixed_clock, sample_entries, sample_runbook
from runbook_tui.core import events as ev
from runbook_tui.core.journal.fold import fold
from runbook_tui.ui.app import AppOptions, RunbookApp
from runbook_tui.ui.screens.procedure import ProcedureScreen
from runbook_tui.ui.screens.summary import SummaryScreen

SIZES = [(80, 24), (120, 40)]


def unjournaled_session(runbook: Any, procedure: Any, ask: Any) -> Any:
    """A real engine session that writes no journal (so no temp path shows)."""
    from runbook_tui.core.engine import Session

    return Session(runbook, procedure, workdir=Path("/tmp"), ask=ask, operator="oncall@bastion")


def make_app(*, drill: bool = False, open_runbook: bool = False, procedure: str | None = None) -> RunbookApp:
    return RunbookApp(
        AppOptions(
            find_entries=lambda dirs: list(sample_entries()),
            clock=fixed_clock,
            probe_signals=False,
            drill=drill,
            runbook=sample_runbook() if open_runbook else None,
            procedure=procedure,
            session_factory=unjournaled_session,
        )
    )


async def settle(pilot: Pilot[Any]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.1)
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def then(*steps: Callable[[Pilot[Any]], Any]) -> Callable[[Pilot[Any]], Any]:
    async def run(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        for step in steps:
            result = step(pilot)
            if hasattr(result, "__await__"):
                await result
        await settle(pilot)

    return run


async def until_started(pilot: Pilot[Any]) -> None:
    for _ in range(100):
        screen = pilot.app.screen
        if isinstance(screen, ProcedureScreen) and screen.state.started_at:
            return
        await pilot.pause(0.05)


def drill_journal(folder: Path) -> Path:
    """The finished session's events, as a drill, in a real journal (scored from the file)."""

    from runbook_tui.core.journal import Journal

    events = list(finished_events())
    started = events[0]
    assert isinstance(started, ev.SessionStarted)
    events[0] = dataclasses.replace(started, mode="drill")
    with Journal.create("20260529T120000Z-sample-1a2b", dir=folder) as journal:
        for event in events:
            journal.append(event)
        return journal.path


def show_summary(journal: Path) -> Callable[[Pilot[Any]], None]:
    """A step that opens the summary of the session recorded in ``journal``."""

    def show(pilot: Pilot[Any]) -> None:
        from runbook_tui.core.journal import load

        session = SimpleNamespace(state=fold(load(journal).events), journal_path=journal)
        pilot.app.push_screen(SummaryScreen(session, sample_runbook().procedures[0]))

    return show


async def until_scored(pilot: Pilot[Any]) -> SummaryScreen:
    """The summary screen, once its drill score is in (scored in a thread)."""
    for _ in range(100):
        screen = pilot.app.screen
        if isinstance(screen, SummaryScreen) and screen.score is not None:
            return screen
        await pilot.pause(0.05)
    raise AssertionError("the drill was never scored")


def finished_events() -> list[ev.Event]:
    t = FIXED_NOW - 200
    events: list[ev.Event] = [
        ev.SessionStarted(
            session_id="20260529T120000Z-sample-1a2b",
            runbook_id="sample",
            runbook_title="Sample Service Rollback",
            runbook_path="/tmp/sample.yaml",
            runbook_sha256="0" * 64,
            procedure_id="app-rollback",
            procedure_title="Application Rollback (Docker)",
            mode="live",
            operator="oncall@bastion",
            app_version="0.1.0",
            target_seconds=300,
            window_text="< 5 minutes",
            at=t,
        ),
        ev.StepStarted(
            step_id="check-disk", title="Check disk space", step_kind="shell", phase="precheck", at=t + 5
        ),
        ev.StepFinished(step_id="check-disk", status="passed", duration=0.4, at=t + 5.4),
        ev.StepSkipped(step_id="stop", reason="api already stopped by the orchestrator", at=t + 20),
        ev.StepStarted(
            step_id="start", title="Start previous version", step_kind="shell", phase="step", at=t + 30
        ),
        ev.StepFinished(step_id="start", status="passed", duration=41.0, at=t + 71),
        ev.FileEdited(
            step_id="start",
            path="/srv/app/docker-compose.yml",
            backup="/tmp/backup",
            diff=DIFF,
            before_sha256="a" * 64,
            after_sha256="b" * 64,
            at=t + 60,
        ),
        ev.StepStarted(
            step_id="health", title="Verify health", step_kind="shell", phase="verification", at=t + 80
        ),
        ev.StepFinished(step_id="health", status="passed", duration=2.0, at=t + 82),
        ev.NoteAdded(text="error rate back under 1%", at=t + 90),
        ev.SessionFinished(outcome="succeeded", duration=95.0, at=t + 95),
    ]
    return events


DIFF = """\
--- a/Cargo.toml
+++ b/Cargo.toml
@@ -5,4 +5,4 @@
 [features]
-default = ["risky", "safe"]  # keep this comment
+default = ["safe"]  # keep this comment
 risky = []
"""
