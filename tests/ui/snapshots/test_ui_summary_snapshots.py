"""Snapshot of a drill's summary whose fault was picked at random (pytest-textual-snapshot).

The score judges the fault and the summary reveals it, as ``drill`` prints after exit.
120x40: at 80x24 the score is below the fold of the summary box. Stable as the other
snapshots (fixed journal, still clock, UTC). Update with ``pytest tests/snapshots --snapshot-update``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from helpers.snapshots import drill_journal, make_app, show_summary, then, until_scored
from textual.pilot import Pilot

from runbook_tui.core.drills.definition import Fault

# Local time on screen is UTC in these snapshots (the fixture is in conftest.py).
pytestmark = pytest.mark.usefixtures("utc")


FAULT = Fault(
    name="health-still-failing",
    summary="The previous tag is bad too, so /health still answers 503 after the rollback",
    procedure="app-rollback",
    fails_step="health",
)


def test_drill_summary_reveals_a_random_fault(snap_compare: Any, tmp_path: Path) -> None:
    journal = drill_journal(tmp_path)

    async def scored_against_the_fault(pilot: Pilot[Any]) -> None:
        screen = await until_scored(pilot)
        assert screen.score is not None and screen.score.fault == FAULT.name

    app = make_app(drill=True)
    app.options = dataclasses.replace(app.options, drill_fault=FAULT, drill_fault_random=True)
    run_before = then(show_summary(journal), scored_against_the_fault)
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
