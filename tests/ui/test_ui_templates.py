"""Communication templates and the drill score in the app: real sessions, real journals, Pilot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers.ui import run_screen, until
from textual.pilot import Pilot
from textual.widgets import OptionList, Static, TextArea
from textual.widgets.text_area import Selection

from runbook_tui.core import events as ev
from runbook_tui.core.drills.debrief import score_journal
from runbook_tui.core.journal import load
from runbook_tui.core.loader import load_runbook
from runbook_tui.ui.app import AppOptions, RunbookApp
from runbook_tui.ui.screens.confirm import ConfirmModal
from runbook_tui.ui.screens.procedure import ProcedureScreen
from runbook_tui.ui.screens.quit import QuitModal
from runbook_tui.ui.screens.summary import SummaryScreen
from runbook_tui.ui.screens.templates import TemplatesScreen
from runbook_tui.ui.screens.text_prompt import TextPrompt
from runbook_tui.ui.widgets.step_list import StepList

NOTIFY = """\
runbook: 1
id: notify
title: Notify Rollback
procedures:
  - id: roll
    title: Roll back the API
    recovery_window: 5 minutes
    steps:
      - id: one
        title: Stop the new version
        kind: shell
        command: echo stopped
      - id: two
        title: Restart the old version
        kind: shell
        command: echo restarted
        confirm: Restart the old version now
      - id: three
        title: Clear the cache
        kind: shell
        command: echo cleared
templates:
  - id: internal
    title: Internal Rollback Notification
    audience: internal
    body: |
      ROLLBACK ALERT: Notify

      Rollback Type: [Feature Flag/Code/Database]
      Initiated By: [Name]
      Reason: [Brief description of issue]
      Current Status: [In progress/Completed]
      Expected Resolution: [Time]
  - id: external
    title: External User Communication
    audience: external
    body: |
      [PRODUCT NAME] System Update

      We rolled back a recent update. Status: [Status page URL]
"""


def make_app(tmp_path: Path, *, drill: bool = False) -> RunbookApp:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    path = work / "notify.yaml"
    path.write_text(NOTIFY)
    return RunbookApp(
        AppOptions(
            runbook=load_runbook(path),
            procedure="roll",
            workdir=work,
            drill=drill,
            probe_signals=False,
            find_entries=lambda dirs: [],
        )
    )


async def templates_screen(pilot: Pilot[Any]) -> TemplatesScreen:
    await pilot.press("t")
    await until(pilot, lambda: isinstance(pilot.app.screen, TemplatesScreen))
    screen = pilot.app.screen
    assert isinstance(screen, TemplatesScreen)
    await pilot.pause()
    return screen


def rendered(screen: Any, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def replace(pilot: Pilot[Any], area: TextArea, old: str, new: str) -> None:
    """Select ``old`` in the text area and type ``new`` over it, as the engineer would."""
    row, line = next((i, line) for i, line in enumerate(area.text.splitlines()) if old in line)
    col = line.index(old)
    area.selection = Selection((row, col), (row, col + len(old)))
    await pilot.press(*new)


async def run_everything_and_end(pilot: Pilot[Any], run: ProcedureScreen) -> SummaryScreen:
    """Run every pending step (confirming the gate), then finish the session."""
    await pilot.press("a")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmModal))
    await pilot.press("y")
    await until(pilot, lambda: run.state.step("two").status.value == "passed")
    await until(pilot, lambda: not run.has_running_work)
    await pilot.press("e")
    await until(pilot, lambda: isinstance(pilot.app.screen, QuitModal))
    await pilot.press("f")
    await until(pilot, lambda: isinstance(pilot.app.screen, SummaryScreen))
    summary = pilot.app.screen
    assert isinstance(summary, SummaryScreen)
    return summary


async def test_a_template_is_filled_from_the_session_edited_copied_and_saved(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        run = await run_screen(pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, TextPrompt))
        await pilot.press(*"error rate above 5%", "enter")
        await until(pilot, lambda: run.state.notes)
        screen = await templates_screen(pilot)
        area = screen.query_one("#template-text", TextArea)
        text = area.text
        assert "Rollback Type: Roll back the API" in text
        assert f"Initiated By: {run.session.operator}" in text
        assert "Reason: error rate above 5%" in text
        assert "Current Status: In progress" in text
        assert "Expected Resolution: [Time]" in text
        assert "still to fill: Time" in rendered(screen, "#template-blanks")
        assert "not saved" in rendered(screen, "#template-status")
        await pilot.press("e")
        assert area.has_focus
        await replace(pilot, area, "[Time]", "10:30 UTC")
        assert "Expected Resolution: 10:30 UTC" in area.text
        assert "every field is filled" in rendered(screen, "#template-blanks")
        await pilot.press("escape")  # from the editor back to the list, where c and s work
        assert screen.query_one("#templates-list", OptionList).has_focus
        await pilot.press("c")
        assert app.clipboard == area.text
        assert "copied" in rendered(screen, "#template-status")
        await pilot.press("s")
        await pilot.pause()
        saved = area.text
        assert run.state.templates["internal"] == saved
        assert "saved in the session" in rendered(screen, "#template-status")
        # Another template, then back: the edit is still there, and the saved one is ticked.
        await pilot.press("down")
        assert "[PRODUCT NAME]" in area.text
        assert "PRODUCT NAME" in rendered(screen, "#template-blanks")
        await pilot.press("up")
        assert area.text == saved
        listing = screen.query_one("#templates-list", OptionList)
        assert "✔" in str(listing.get_option("internal").prompt)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is run)
        journal = Path(run.session.journal_path)
    filled = [e for e in load(journal).events if isinstance(e, ev.TemplateFilled)]
    assert [(e.template_id, e.text) for e in filled] == [("internal", saved)]
    assert "10:30 UTC" in filled[0].text


async def test_templates_from_the_summary_say_completed_and_save_after_the_end(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        run = await run_screen(pilot)
        summary = await run_everything_and_end(pilot, run)
        assert not summary.query_one("#summary-score").display, "a live session has no drill score"
        screen = await templates_screen(pilot)
        area = screen.query_one("#template-text", TextArea)
        assert "Current Status: Completed" in area.text
        await pilot.press("ctrl+s")  # saves from anywhere, blanks and all
        await pilot.pause()
        # No note and no decision: the reason is left to the engineer, with the time.
        assert "Brief description of issue, Time" in rendered(screen, "#template-blanks")
        assert "2 fields still to fill" in rendered(screen, "#template-status")
        journal = Path(run.session.journal_path)
    kinds = [e.kind for e in load(journal).events]
    assert kinds.index("template_filled") > kinds.index("session_finished")


async def test_the_drill_summary_shows_the_score(tmp_path: Path) -> None:
    app = make_app(tmp_path, drill=True)
    async with app.run_test(size=(80, 24)) as pilot:
        run = await run_screen(pilot)
        assert run.state.mode == "drill"
        run.query_one("#steps", StepList).select_step("three")
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, TextPrompt))
        await pilot.press(*"cache is cold already", "enter")
        await until(pilot, lambda: run.state.step("three").status.value == "skipped")
        summary = await run_everything_and_end(pilot, run)
        await until(pilot, lambda: summary.score is not None)
        text = rendered(summary, "#summary-score")
        journal = Path(run.session.journal_path)
        expected = score_journal(journal)
        assert f"Drill score: {expected.points}/100" in text
        assert expected.points < 100 and expected.skipped == (("three", "cache is cold already"),)
        assert "three (cache is cold already)" in text
        assert "recovery window" in text and "against 5 minutes" in text and ": met" in text
        assert "1 given, 0 declined" in text
        assert f"runbook-tui report {run.state.session_id}" in text
