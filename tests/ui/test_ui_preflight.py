"""The app shows the pre-flight before the first step; the engineer goes on or stops."""

from __future__ import annotations

from pathlib import Path

from helpers.engine import write_runbook
from helpers.ui import until

from runbook_tui.core import events as ev
from runbook_tui.core import journal
from runbook_tui.core.loader import load_runbook
from runbook_tui.ui.app import AppOptions, RunbookApp
from runbook_tui.ui.screens.preflight import PreflightModal
from runbook_tui.ui.screens.procedure import ProcedureScreen

RUNBOOK = """
runbook: 1
id: uipf
title: UI pre-flight
procedures:
  - id: main
    title: Main
    steps:
      - id: a
        title: A
        kind: shell
        command: "touch ran; no-such-tool-xyz; echo ${UNSET_XYZ_VAR}"
"""
# ``touch ran`` comes first: shell steps stop at the first failing command (bash -e), and
# the missing program fails, so a step that ran leaves ``ran`` behind only if it is first.


def _app(tmp_path: Path) -> RunbookApp:
    path = write_runbook(tmp_path, RUNBOOK)
    options = AppOptions(
        runbook=load_runbook(path), procedure="main", workdir=tmp_path, probe_signals=False,
        find_entries=lambda dirs: [],
    )  # fmt: skip
    return RunbookApp(options)


def _preflight_events(screen: ProcedureScreen) -> list[ev.PreflightChecked]:
    path = screen.session.journal_path
    assert path is not None
    return [e for e in journal.load(path).events if isinstance(e, ev.PreflightChecked)]


async def test_stop_at_the_preflight_ends_the_session_before_any_step(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PreflightModal))
        modal = app.screen
        assert isinstance(modal, PreflightModal)
        assert any("no-such-tool-xyz" in line for line in modal.findings)
        assert any("$UNSET_XYZ_VAR" in line for line in modal.findings)
        screen = app.screen_stack[-2]
        assert isinstance(screen, ProcedureScreen)
        await pilot.press("s")
        await until(pilot, lambda: screen.state.finished_at)  # then the summary opens
        assert screen.state.outcome == ev.Outcome.ABORTED.value
        (event,) = _preflight_events(screen)
        assert event.accepted is False and event.by == "engineer" and len(event.findings) == 2
    assert not (tmp_path / "ran").exists()


async def test_go_on_at_the_preflight_records_it_and_steps_can_run(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PreflightModal))
        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, ProcedureScreen))
        screen = app.screen
        assert isinstance(screen, ProcedureScreen)
        (event,) = _preflight_events(screen)
        assert event.accepted is True
        await pilot.press("a")
        await until(pilot, lambda: (tmp_path / "ran").exists())
