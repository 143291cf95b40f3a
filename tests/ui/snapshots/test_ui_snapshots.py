"""Snapshots of each main screen at 80x24 and 120x40 (pytest-textual-snapshot).

Stable by construction: fixed runbooks with fixed paths, a clock that does not
move, UTC, no journal paths on screen, and no blinking cursors.
Update after a deliberate change with ``pytest tests/snapshots --snapshot-update``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from helpers.snapshots import (
    DIFF,
    SIZES,
    drill_journal,
    finished_events,
    make_app,
    show_summary,
    then,
    until_scored,
    until_started,
)
from helpers.ui_fixtures import FIXED_NOW, sample_runbook
from textual.pilot import Pilot

from runbook_tui.core import events as ev
from runbook_tui.core.journal.fold import fold
from runbook_tui.core.model import Parameter
from runbook_tui.ui.screens.confirm import ConfirmModal
from runbook_tui.ui.screens.parameter import ParameterModal
from runbook_tui.ui.screens.summary import SummaryScreen

# Local time on screen is UTC in these snapshots (the fixture is in conftest.py).
pytestmark = pytest.mark.usefixtures("utc")


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


@pytest.mark.parametrize("size", SIZES)
def test_procedure_before_anything_runs(snap_compare: Any, size: tuple[int, int]) -> None:
    app = make_app(open_runbook=True, procedure="app-rollback")
    assert snap_compare(app, terminal_size=size, run_before=then(until_started))


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
    return SimpleNamespace(state=fold(finished_events()))


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


def test_drill_summary(snap_compare: Any, tmp_path: Path) -> None:
    journal = drill_journal(tmp_path)
    app = make_app(drill=True)
    assert snap_compare(app, terminal_size=(80, 24), run_before=then(show_summary(journal), until_scored))


# --- the summary's timeline (issue 17): a breach, milestones, the window's edge ---------------


def _breached_session() -> Any:
    """The sample session run late: a 1-minute window, the restart past it, milestones reached."""
    events = finished_events()
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
