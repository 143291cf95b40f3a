"""The record in the app (issue 17): triage asks when impact started; the run screen takes
action items, roles and a handoff; each goes into the session's journal."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.ui import notices, run_screen, until
from helpers.ui_fixtures import entries_in, fixed_clock, write_run_runbook

from runbook_tui.core.journal import load
from runbook_tui.ui.app import AppOptions, RunbookApp
from runbook_tui.ui.screens.evidence import FieldsPrompt
from runbook_tui.ui.screens.runbook import RunbookScreen


@pytest.fixture
def library_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "runbooks"
    write_run_runbook(folder, "http://127.0.0.1:9/health", "http://127.0.0.1:9/ok")
    return folder


def make_app(folder: Path) -> RunbookApp:
    return RunbookApp(
        AppOptions(
            find_entries=lambda dirs: list(entries_in(folder)),
            clock=fixed_clock,
            probe_signals=False,
            workdir=folder,
        )
    )


@pytest.mark.slow
async def test_triage_asks_impact_start_and_the_run_screen_records_the_rest(library_dir: Path) -> None:
    app = make_app(library_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press(*"ui-drill", "enter")
        await pilot.pause()
        assert isinstance(app.screen, RunbookScreen)
        await pilot.press("s")
        assert isinstance(app.screen, FieldsPrompt)
        await pilot.press(*"soon", "enter")  # not a time: said, and the prompt stays
        assert isinstance(app.screen, FieldsPrompt)
        await pilot.press(*["backspace"] * 4, *"-25m", "enter")
        assert isinstance(app.screen, RunbookScreen)
        assert app.impact_started_at == fixed_clock() - 1500
        await pilot.press("down", "enter", "o")
        screen = await run_screen(pilot)
        assert screen.state.impact_started_at == fixed_clock() - 1500
        await pilot.press("A")
        await pilot.press(*"add a 503 alert", "tab", *"alice", "tab", *"2027-01-31", "enter")
        await until(pilot, lambda: screen.state.action_items)
        item = screen.state.action_items[0]
        assert (item.text, item.owner, item.due) == ("add a 503 alert", "alice", "2027-01-31")
        await pilot.press("R", *"alice", "tab", *"bob", "enter")
        await until(pilot, lambda: screen.state.roles)
        assert dict(screen.state.roles) == {"incident_commander": "alice", "operator": "bob"}
        await pilot.press("H", *"carol", "enter")
        await until(pilot, lambda: screen.state.current_operator == "carol")
        assert any("Handed over to carol" in n for n in notices(app))
        await pilot.press("I", *"-5m", "enter")  # corrected later: journalled, the last word
        await until(pilot, lambda: screen.state.impact_source == "engineer")
        assert screen.state.impact_started_at is not None
        path = screen.session.journal_path
    kinds = [e.kind for e in load(path).events]
    assert {"action_item", "roles_set", "handoff", "impact_started_set"} <= set(kinds)
