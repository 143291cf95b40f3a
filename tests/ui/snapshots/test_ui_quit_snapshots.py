"""Snapshots of the quit modal over the run screen at 80x24 and 120x40 (pytest-textual-snapshot).

Stable as the other snapshots (fixed runbook, still clock, UTC); the running step is named
by the modal, so nothing needs to run. Update with ``pytest tests/snapshots --snapshot-update``.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers.snapshots import SIZES, make_app, then, until_started
from textual.pilot import Pilot

from runbook_tui.ui.screens.quit import QuitModal

# Local time on screen is UTC in these snapshots (the fixture is in conftest.py).
pytestmark = pytest.mark.usefixtures("utc")


@pytest.mark.parametrize("size", SIZES)
def test_quit_with_a_step_running(snap_compare: Any, size: tuple[int, int]) -> None:
    def ask(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(QuitModal(["Start previous version"], quitting=True))

    app = make_app(open_runbook=True, procedure="app-rollback")
    assert snap_compare(app, terminal_size=size, run_before=then(until_started, ask))


def test_end_session_with_nothing_running(snap_compare: Any) -> None:
    def ask(pilot: Pilot[Any]) -> None:
        pilot.app.push_screen(QuitModal([], quitting=False))

    app = make_app(open_runbook=True, procedure="app-rollback")
    assert snap_compare(app, terminal_size=(80, 24), run_before=then(until_started, ask))
