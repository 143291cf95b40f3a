"""One clock: the engine, the run screen's clock and the drill score time every window alike."""

from __future__ import annotations

from pathlib import Path

from helpers.engine import write_runbook
from helpers.ui import notices, run_screen, until

from runbook_tui.core import events as ev
from runbook_tui.core.drills import score
from runbook_tui.core.engine.windows import BREACH, WARNING, Window, due, level
from runbook_tui.core.journal import load
from runbook_tui.core.loader import load_runbook
from runbook_tui.core.report.timeline import build_report
from runbook_tui.ui.app import AppOptions, RunbookApp
from runbook_tui.ui.screens.quit import QuitModal
from runbook_tui.ui.screens.summary import SummaryScreen
from runbook_tui.ui.widgets.clock import RecoveryClock

T0 = 1_800_000_000.0


def test_due_announces_each_crossing_once_and_says_when_the_next_falls_due() -> None:
    windows = [Window("procedure", 100.0), Window("row", 50.0)]
    first = due(windows, T0, T0 + 10)
    assert first.crossings == () and first.next_in == 30.0  # the row's warning at 40 s
    at_45 = due(windows, T0, T0 + 45)
    assert [(c.scope, c.level) for c in at_45.crossings] == [("row", WARNING)]
    assert at_45.next_in == 5.0  # the row's breach after 50 s
    at_60 = due(windows, T0, T0 + 60, warned={"row"})
    assert [(c.scope, c.level) for c in at_60.crossings] == [("row", BREACH)]
    late = due(windows, T0, T0 + 200, warned={"row"}, breached={"row"})
    assert [(c.scope, c.level) for c in late.crossings] == [("procedure", BREACH)]
    assert late.next_in is None
    assert level(80.0, 100.0) == WARNING and level(100.0, 100.0) == WARNING and level(100.1, 100.0) == BREACH


def test_the_drill_score_times_windows_from_the_session_start_not_the_impact() -> None:
    started = ev.SessionStarted(
        session_id="s",
        runbook_id="r",
        runbook_title="R",
        runbook_path="",
        runbook_sha256="",
        procedure_id="p",
        procedure_title="P",
        mode="drill",
        operator="me@here",
        app_version="0",
        target_seconds=300.0,
        window_text="< 5 minutes",
        impact_started_at=T0 - 3600,  # an hour of impact before the procedure was opened
        at=T0,
    )
    events: list[ev.Event] = [
        started,
        ev.DecisionMade(row_id="row", issue="Slow", procedure_id="p", deadline_seconds=120.0, at=T0 + 60),
        ev.MilestoneReached(milestone="mitigated", at=T0 + 100),
        ev.MilestoneReached(milestone="resolved", at=T0 + 200),
        ev.SessionFinished(outcome="succeeded", duration=210.0, at=T0 + 210),
    ]
    result = score(events)
    assert [(w.scope, w.elapsed, w.met) for w in result.windows] == [
        ("procedure", 200.0, True),
        ("row", 100.0, True),
    ]
    breached = [
        *events[:-1],
        ev.WindowBreached(scope="procedure", elapsed=301.0, target=300.0, at=T0 + 301),
        events[-1],
    ]
    assert not score(breached).windows[0].met  # what the screen showed, the score says


async def test_the_screen_clock_and_the_report_agree_on_a_breach(tmp_path: Path) -> None:
    path = write_runbook(
        tmp_path,
        """
        runbook: 1
        id: clock
        title: Clock
        procedures:
          - id: main
            title: Main
            recovery_window: 1s
            steps:
              - id: slow
                title: Slow
                kind: shell
                command: "sleep 1.5"
        """,
    )
    app = RunbookApp(
        AppOptions(
            runbook=load_runbook(path),
            procedure="main",
            workdir=tmp_path,
            probe_signals=False,
            find_entries=lambda dirs: [],
        )
    )
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await run_screen(pilot)
        clock = screen.query_one("#clock", RecoveryClock)
        await pilot.press("a")
        await until(pilot, lambda: screen.state.step("slow").status.is_final)
        clock.tick()
        assert clock.has_class("-breach")
        breaches = [n for n in notices(app) if "breached" in n]
        assert len(breaches) == 1 and breaches[0].startswith("The recovery window is breached")
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, QuitModal))
        await pilot.press("f")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        assert clock.procedure is not None and clock.procedure.started_at == screen.state.started_at
        journal = screen.session.journal_path
    report = build_report(journal)
    assert [b.scope for b in report.metrics.breaches] == ["procedure"]
    recorded = [e for e in load(journal).events if isinstance(e, ev.WindowBreached)]
    assert len(recorded) == 1
