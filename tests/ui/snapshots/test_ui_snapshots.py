"""Snapshots of each main screen at 80x24 and 120x40 (pytest-textual-snapshot).

Stable by construction: fixed runbooks with fixed paths, a clock that does not
move, UTC, no journal paths on screen, and no blinking cursors.
Update after a deliberate change with ``pytest tests/snapshots --snapshot-update``.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from test_ui_fixtures import FIXED_NOW, fixed_clock, sample_entries, sample_runbook

from runbook_tui.core import events as ev
from runbook_tui.core.model import Parameter
from runbook_tui.core.state import fold
from runbook_tui.ui.app import AppOptions, RunbookApp
from runbook_tui.ui.screens.confirm import ConfirmModal
from runbook_tui.ui.screens.parameter import ParameterModal
from runbook_tui.ui.screens.procedure import ProcedureScreen
from runbook_tui.ui.screens.summary import SummaryScreen

SIZES = [(80, 24), (120, 40)]
DIFF = """\
--- a/Cargo.toml
+++ b/Cargo.toml
@@ -5,4 +5,4 @@
 [features]
-default = ["risky", "safe"]  # keep this comment
+default = ["safe"]  # keep this comment
 risky = []
"""


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    """Local time on screen is UTC in snapshots."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


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


@pytest.mark.parametrize("size", SIZES)
def test_library(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(), terminal_size=size, run_before=then())


@pytest.mark.parametrize("size", SIZES)
def test_library_filtered_drill(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(drill=True), press=list("pay"), terminal_size=size, run_before=then())


@pytest.mark.parametrize("size", SIZES)
def test_triage_row_picked(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(open_runbook=True), press=["enter"], terminal_size=size, run_before=then())


@pytest.mark.parametrize("size", SIZES)
def test_reference(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(make_app(open_runbook=True), press=["i", "4"], terminal_size=size, run_before=then())


async def _until_started(pilot: Pilot[Any]) -> None:
    for _ in range(100):
        screen = pilot.app.screen
        if isinstance(screen, ProcedureScreen) and screen.state.started_at:
            return
        await pilot.pause(0.05)


@pytest.mark.parametrize("size", SIZES)
def test_procedure_before_anything_runs(snap_compare: Any, size: tuple[int, int]) -> None:
    app = make_app(open_runbook=True, procedure="app-rollback")
    assert snap_compare(app, terminal_size=size, run_before=then(_until_started))


@pytest.mark.parametrize("size", SIZES)
def test_parameter_form_rejects_a_value(snap_compare: Any, size: tuple[int, int]) -> None:
    param = Parameter(
        "tag", "The image tag to roll back to", pattern=r"^v[0-9]+\.[0-9]+\.[0-9]+$", example="v1.2.3"
    )

    async def ask(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(ParameterModal(param, ["v1.2.2", "v1.2.1"]))
        await pilot.pause()
        await pilot.press(*"latest", "enter")

    assert snap_compare(make_app(), terminal_size=size, run_before=then(ask))


@pytest.mark.parametrize("size", SIZES)
def test_destructive_confirmation_with_diff(snap_compare: Any, size: tuple[int, int]) -> None:
    def confirm(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(
            ConfirmModal(
                step_id="disable-risky",
                title="Drop the risky default feature",
                message='Cargo.toml: [features] default = ["risky", "safe"] -> ["safe"]',
                diff=DIFF,
                destructive=True,
            )
        )

    assert snap_compare(make_app(), terminal_size=size, run_before=then(confirm))


def _finished_session() -> SimpleNamespace:
    return SimpleNamespace(state=fold(_finished_events()))


def _finished_events() -> list[ev.Event]:
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


@pytest.mark.parametrize("size", SIZES)
def test_summary(snap_compare: Any, size: tuple[int, int]) -> None:
    def show(pilot: Pilot[Any]) -> None:
        procedure = sample_runbook().procedures[0]
        pilot.app.push_screen(SummaryScreen(_finished_session(), procedure))

    assert snap_compare(make_app(), terminal_size=size, run_before=then(show))


# --- recorded sessions: resume, interrupted steps, templates, the drill score (80x24) --------


def _summary_of(path: Path, mode: str = "live") -> Any:
    from runbook_tui.core.sessions import SessionSummary

    return SessionSummary(
        id="20260529T120000Z-sample-1a2b",
        runbook="sample",
        runbook_title="Sample Service Rollback",
        procedure="app-rollback",
        procedure_title="Application Rollback (Docker)",
        mode=mode,
        operator="oncall@bastion",
        started=FIXED_NOW - 754,
        finished=None,
        duration=120.0,
        outcome="unfinished",
        path=path,
        torn=False,
    )


def test_resume_offer(snap_compare: Any) -> None:
    def offer(pilot: Pilot[Any]) -> None:
        from runbook_tui.ui.screens.resume import ResumeOfferModal

        summary = _summary_of(Path("/tmp/sample.jsonl"))
        pilot.app.push_screen(ResumeOfferModal(summary, now=FIXED_NOW, others=1))

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=then(offer))


def test_interrupted_step(snap_compare: Any) -> None:
    def interrupted(pilot: Pilot[Any]) -> None:
        from runbook_tui.ui.screens.resume import InterruptedModal

        t = FIXED_NOW - 100
        started = ev.StepStarted(
            step_id="start",
            title="Start previous version",
            step_kind="shell",
            phase="step",
            command="docker compose up -d api",
            at=t,
        )
        lines = [
            ev.OutputLine(step_id="start", seq=i, stream="stdout", text=f"pulling layer {i}/9", at=t + i)
            for i in range(1, 8)
        ]
        state = fold([started, *lines, ev.StepInterrupted(step_id="start", at=t + 60)]).step("start")
        pilot.app.push_screen(InterruptedModal("Start previous version", state, state.command))

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=then(interrupted))


def _templated_runbook() -> Any:
    import dataclasses

    from runbook_tui.core.model import Template

    body = (
        "ROLLBACK ALERT: Sample Service\n\n"
        "Rollback Type: [Feature Flag/Code/Database]\n"
        "Initiated By: [Name]\n"
        "Reason: [Brief description of issue]\n"
        "Current Status: [In progress/Completed]\n"
        "Expected Resolution: [Time]\n"
    )
    external = "[PRODUCT NAME] System Update\n\nWe rolled back a recent update.\n"
    templates = (
        Template("internal", "Internal Rollback Notification", body),
        Template("external", "External User Communication", external, audience="external"),
    )
    return dataclasses.replace(sample_runbook(), templates=templates)


def test_templates(snap_compare: Any) -> None:
    def show(pilot: Pilot[Any]) -> None:
        from runbook_tui.ui.screens.templates import TemplatesScreen

        pilot.app.push_screen(TemplatesScreen(_finished_session(), _templated_runbook()))

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=then(show))


def _drill_journal(folder: Path) -> Path:
    """The finished session's events, as a drill, in a real journal (scored from the file)."""
    import dataclasses

    from runbook_tui.core.journal import Journal

    events = list(_finished_events())
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


def test_drill_summary(snap_compare: Any, tmp_path: Path) -> None:
    journal = _drill_journal(tmp_path)
    app = make_app(drill=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=then(show_summary(journal), until_scored))


# --- the summary's timeline (issue 17): a breach, milestones, the window's edge ---------------


def _breached_session() -> Any:
    """The sample session run late: a 1-minute window, the restart past it, milestones reached."""
    events = _finished_events()
    t = events[0].at
    events[0] = dataclasses.replace(
        events[0], target_seconds=60.0, window_text="1 minute", impact_started_at=t - 120
    )
    finished = events.pop()
    events += [
        ev.MilestoneReached(milestone="mitigated", step_id="start", at=t + 71),
        ev.WindowBreached(scope="procedure", elapsed=60.0, target=60.0, at=t + 60),
        ev.MilestoneReached(milestone="resolved", step_id="health", at=t + 82),
        finished,
    ]
    return SimpleNamespace(state=fold(events), journal_path=None)


@pytest.mark.parametrize("size", SIZES)
def test_summary_timeline(snap_compare: Any, size: tuple[int, int]) -> None:
    def show(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(SummaryScreen(_breached_session(), sample_runbook().procedures[0]))

    assert snap_compare(make_app(), terminal_size=size, run_before=then(show))
