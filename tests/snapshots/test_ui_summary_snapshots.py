"""Snapshot of a drill's summary whose fault was picked at random (pytest-textual-snapshot).

The score judges the fault and the summary reveals it, as ``drill`` prints after exit.
120x40: at 80x24 the score is below the fold of the summary box. Stable as the other
snapshots (fixed journal, still clock, UTC). Update with ``pytest tests/snapshots --snapshot-update``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from test_ui_snapshots import _drill_journal, make_app, sample_runbook, then, utc
from textual.pilot import Pilot

from runbook_tui.core.drills.definition import Fault
from runbook_tui.core.journal import load
from runbook_tui.core.state import fold
from runbook_tui.ui.screens.summary import SummaryScreen

__all__ = ["utc"]  # the autouse UTC fixture, used by every test here

FAULT = Fault(
    name="health-still-failing",
    summary="The previous tag is bad too, so /health still answers 503 after the rollback",
    procedure="app-rollback",
    fails_step="health",
)


def test_drill_summary_reveals_a_random_fault(snap_compare: Any, tmp_path: Path) -> None:
    journal = _drill_journal(tmp_path)

    def show(pilot: Pilot[Any]) -> None:
        session = SimpleNamespace(state=fold(load(journal).events), journal_path=journal)
        pilot.app.push_screen(SummaryScreen(session, sample_runbook().procedures[0]))

    async def scored(pilot: Pilot[Any]) -> None:
        for _ in range(100):
            screen = pilot.app.screen
            if isinstance(screen, SummaryScreen) and screen.score is not None:
                assert screen.score.fault == FAULT.name  # scored against the fault
                return
            await pilot.pause(0.05)
        raise AssertionError("the drill was never scored")

    app = make_app(drill=True)
    app.options = dataclasses.replace(app.options, drill_fault=FAULT, drill_fault_random=True)
    assert snap_compare(app, terminal_size=(120, 40), run_before=then(show, scored))
