"""The app meets the faults: a damaged journal asks before resuming, a locked workdir is said."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.resume import damage_line, killed_session, stop_leftovers
from helpers.ui import notices, resume_app, until

from runbook_tui.core.journal import load
from runbook_tui.core.loader import load_runbook
from runbook_tui.core.worklock import WorkLock, lock_path
from runbook_tui.ui.app import AppOptions, RunbookApp
from runbook_tui.ui.screens.procedure import ProcedureScreen
from runbook_tui.ui.screens.resume import DamagedLinesModal


@pytest.fixture
def damaged(tmp_path: Path) -> Iterator[tuple[Path, Path, int]]:
    work = tmp_path / "work"
    journal = killed_session(work)
    number = damage_line(journal, "step_finished", "one")
    yield journal, work, number
    stop_leftovers(work)


async def test_a_damaged_journal_asks_and_escape_resumes_nothing(damaged: tuple[Path, Path, int]) -> None:
    journal, work, number = damaged
    before = journal.read_bytes()
    app = resume_app(journal, work)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DamagedLinesModal))
        modal = app.screen
        assert isinstance(modal, DamagedLinesModal)
        assert [(d.number, d.step_id) for d in modal.damaged] == [(number, "one")]
        await pilot.press("escape")
        await until(pilot, lambda: any("cannot be resumed" in n for n in notices(app)))
        assert any(f"line {number} cannot be read" in n for n in notices(app)), notices(app)
        assert not any(isinstance(s, ProcedureScreen) for s in app.screen_stack)
    assert journal.read_bytes() == before


async def test_a_damaged_journal_accepted_in_the_dialog_is_recorded(damaged: tuple[Path, Path, int]) -> None:
    journal, work, number = damaged
    app = resume_app(journal, work)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, DamagedLinesModal))
        await pilot.press("a")
        await until(pilot, lambda: any(isinstance(s, ProcedureScreen) for s in app.screen_stack))
        run = next(s for s in app.screen_stack if isinstance(s, ProcedureScreen))
        await until(pilot, lambda: run.state.step("one").status.value == "interrupted")
    accepted = [e for e in load(journal).events if e.kind == "damaged_line_accepted"]
    assert [(e.line, e.step_id) for e in accepted] == [(number, "one")]  # type: ignore[attr-defined]
    assert (work / "marks.txt").read_text().split() == ["one", "two"]  # nothing re-ran by itself


async def test_opening_a_procedure_in_a_locked_workdir_says_who_holds_it(tmp_path: Path) -> None:
    work = tmp_path / "work"
    killed_session(work)  # only for its runbook file; its session is not resumed here
    stop_leftovers(work)
    holder = WorkLock.acquire(work, "20260101T000000Z-other-abcd", "alice@elsewhere")
    try:
        runbook = load_runbook(work / "tiny.yaml")
        app = RunbookApp(
            AppOptions(
                runbook=runbook,
                procedure="roll",
                workdir=work,
                probe_signals=False,
                find_entries=lambda dirs: [],
            )
        )
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: any("in use by" in n for n in notices(app)))
            said = next(n for n in notices(app) if "in use by" in n)
            assert "session 20260101T000000Z-other-abcd of alice@elsewhere" in said
            assert "runbook-tui follow 20260101T000000Z-other-abcd" in said
    finally:
        holder.release()


async def test_a_full_disk_in_the_app_stops_the_step_and_says_how_to_continue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpers.faults import FILL, alive, tmpfs

    work = tmp_path / "work"
    work.mkdir()
    (tmp_path / "fill.yaml").write_text(FILL, encoding="utf-8")
    with tmpfs(tmp_path / "data") as data:
        monkeypatch.setenv("RUNBOOK_TUI_DATA_DIR", str(data))
        app = RunbookApp(
            AppOptions(
                runbook=load_runbook(tmp_path / "fill.yaml"),
                procedure="roll",
                workdir=work,
                probe_signals=False,
                find_entries=lambda dirs: [],
            )
        )
        async with app.run_test(size=(100, 30)) as pilot:
            await until(
                pilot, lambda: isinstance(app.screen, ProcedureScreen) and app.screen.session is not None
            )
            run = app.screen
            assert isinstance(run, ProcedureScreen)
            await until(pilot, lambda: run.state.started_at is not None)
            await pilot.press("a")  # run all: one, then chatty fills the disk
            await until(pilot, lambda: any("No space left on device" in n for n in notices(app)), timeout=60)
            said = next(n for n in notices(app) if "No space left on device" in n)
            assert f"runbook-tui resume {run.session.session_id}" in said
            assert "Free space" in said
            assert not alive(int((work / "chatty.pid").read_text()))  # its process group was stopped
            # No longer live: the lock is let go, so 'runbook-tui resume' elsewhere is not refused.
            await until(pilot, lambda: not lock_path(work).exists())
        assert (work / "marks.txt").read_text().split() == ["one", "started"]  # three never ran
