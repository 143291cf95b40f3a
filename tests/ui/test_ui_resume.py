"""Resume in the app: real sessions run by the real engine, SIGKILLed mid-step, continued with Pilot."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.resume import finished_session, killed_session, stop_leftovers
from helpers.ui import notices, resume_app, until
from textual.pilot import Pilot
from textual.widgets import Input, Static

from runbook_tui.core import events as ev
from runbook_tui.core.events import StepStatus
from runbook_tui.core.journal import load
from runbook_tui.core.sessions import latest_unfinished, summarise
from runbook_tui.ui.app import AppOptions, RunbookApp
from runbook_tui.ui.screens.library import LibraryScreen
from runbook_tui.ui.screens.procedure import ProcedureScreen
from runbook_tui.ui.screens.resume import InterruptedModal, ResumeOfferModal
from runbook_tui.ui.widgets.clock import RecoveryClock
from runbook_tui.ui.widgets.log_view import LogView


def said(app: RunbookApp, text: str) -> Callable[[], bool]:
    """A check for ``until``: a notification containing ``text`` was shown."""
    return lambda: any(text in n for n in notices(app))


async def interrupted_modal(pilot: Pilot[Any]) -> tuple[ProcedureScreen, InterruptedModal]:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, InterruptedModal))
    modal = app.screen
    run = next(s for s in app.screen_stack if isinstance(s, ProcedureScreen))
    assert isinstance(modal, InterruptedModal)
    return run, modal


def events_after_resume(journal: Path) -> list[ev.Event]:
    events = load(journal).events
    index = max(i for i, e in enumerate(events) if isinstance(e, ev.SessionResumed))
    return events[index + 1 :]


@pytest.fixture
def killed(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    work = tmp_path / "work"
    yield killed_session(work), work
    stop_leftovers(work)


async def test_resume_shows_done_steps_done_and_reruns_the_interrupted_one(killed: tuple[Path, Path]) -> None:
    journal, work = killed
    started = summarise(journal).started
    (work / "resumed.flag").touch()  # the re-run of step two now ends at once
    app = resume_app(journal, work)
    async with app.run_test(size=(80, 24)) as pilot:
        run, modal = await interrupted_modal(pilot)
        assert run.resumed and run.state.session_id == journal.stem
        assert run.state.step("one").status is StepStatus.PASSED
        assert run.state.step("two").status is StepStatus.INTERRUPTED
        assert run.state.step("three").status is StepStatus.PENDING
        shown = str(modal.query_one("#interrupted-tail", Static).render())
        assert "two-started" in shown, shown
        assert "Slow step" in str(modal.query_one("#modal-title", Static).render())
        command = str(modal.query_one("#interrupted-command", Static).render())
        assert "echo two-started …" in command, command  # a script shows its first line
        # Under the modal: the checklist, the log of what the step printed, the clock from the start.
        assert run.selected_id == "two"
        assert "two-started" in run.query_one("#log", LogView).lines
        clock = run.query_one("#clock", RecoveryClock)
        assert clock.session_started == pytest.approx(started, abs=1e-3)
        # One clock: the window runs from the session's start, not from the resume.
        assert clock.procedure is not None and clock.procedure.started_at == pytest.approx(started, abs=1e-3)
        assert "resumed" in str(run.query_one("#checklist-box").border_title)
        await pilot.press("r")
        await until(pilot, lambda: run.state.step("two").status is StepStatus.PASSED)
        assert run.state.step("three").status is StepStatus.PENDING, "only the step asked for runs"
        assert "two-done" in "\n".join(run.output["two"])
    after = events_after_resume(journal)
    rerun = [e for e in after if isinstance(e, ev.StepStarted) and e.step_id == "two"]
    assert [e.attempt for e in rerun] == [2]
    assert any(isinstance(e, ev.StepFinished) and e.step_id == "two" and e.status == "passed" for e in after)
    assert not any(isinstance(e, ev.StepStarted) and e.step_id == "one" for e in after)


async def test_mark_the_interrupted_step_done_with_a_note(killed: tuple[Path, Path]) -> None:
    journal, work = killed
    app = resume_app(journal, work)
    async with app.run_test(size=(80, 24)) as pilot:
        run, modal = await interrupted_modal(pilot)
        assert not modal.query("#interrupted-note")
        await pilot.press("d")
        note = modal.query_one("#interrupted-note", Input)
        assert note.has_focus
        await pilot.press("enter")  # a note is required
        assert app.screen is modal
        assert "required" in str(modal.query_one("#modal-error", Static).render())
        await pilot.press(*"saw two-done in the service log", "enter")
        await until(pilot, lambda: run.state.step("two").status is StepStatus.PASSED)
        assert run.state.step("two").done_note == "saw two-done in the service log"
        assert not (work / "resumed.flag").exists()
        assert (work / "marks.txt").read_text().count("two") == 1, "marking done runs nothing"
    marked = [e for e in events_after_resume(journal) if isinstance(e, ev.StepMarkedDone)]
    assert [(e.step_id, e.note) for e in marked] == [("two", "saw two-done in the service log")]


async def test_later_leaves_it_interrupted_and_quitting_leaves_the_session_open(
    killed: tuple[Path, Path],
) -> None:
    journal, work = killed
    app = resume_app(journal, work)
    async with app.run_test(size=(80, 24)) as pilot:
        run, _modal = await interrupted_modal(pilot)
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is run)
        assert run.state.step("two").status is StepStatus.INTERRUPTED
        assert any("stays interrupted" in n for n in notices(app))
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running)
    assert app.left_open == [journal.stem]
    summary = summarise(journal)
    assert not summary.is_finished
    assert latest_unfinished() is not None and latest_unfinished().id == journal.stem  # type: ignore[union-attr]
    assert not any(isinstance(e, ev.SessionFinished) for e in load(journal).events)


async def test_a_changed_runbook_is_shown_as_a_warning(killed: tuple[Path, Path]) -> None:
    journal, work = killed
    path = work / "tiny.yaml"
    path.write_text(path.read_text().replace("Last step", "The last step"))
    app = resume_app(journal, work)
    async with app.run_test(size=(80, 24)) as pilot:
        await interrupted_modal(pilot)
        assert any("changed since the session started" in n for n in notices(app)), notices(app)
    resumed = [e for e in load(journal).events if isinstance(e, ev.SessionResumed)]
    assert [e.runbook_changed for e in resumed] == [True]


async def test_a_journal_that_cannot_be_resumed_says_why(tmp_path: Path) -> None:
    work = tmp_path / "work"
    journal = finished_session(work)
    before = journal.read_bytes()
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"not a journal\n")
    for path, expected in ((journal, "already finished"), (garbage, "cannot be resumed")):
        app = resume_app(path, work)
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, said(app, "cannot be resumed"))
            assert any(expected in n for n in notices(app)), notices(app)
            assert isinstance(app.screen, LibraryScreen)
            assert not any(isinstance(s, ProcedureScreen) for s in app.screen_stack)
    assert journal.read_bytes() == before


def plain_app() -> RunbookApp:
    """The app as plain ``runbook-tui`` starts it."""
    return RunbookApp(AppOptions(probe_signals=False, find_entries=lambda dirs: []))


async def test_start_up_offers_the_latest_unfinished_session_and_not_now_leaves_it(
    killed: tuple[Path, Path],
) -> None:
    journal, _work = killed
    digest, mtime = hashlib.sha256(journal.read_bytes()).hexdigest(), journal.stat().st_mtime_ns
    app = plain_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ResumeOfferModal))
        offer = app.screen
        assert isinstance(offer, ResumeOfferModal) and offer.summary.path == journal
        facts = str(offer.query_one("#resume-facts", Static).render())
        for expected in ("Tiny | Rollback", "Roll back the tiny service", "ago", "live"):
            assert expected in facts, facts
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, LibraryScreen))
        await pilot.pause(0.3)
        assert not any(isinstance(s, ProcedureScreen) for s in app.screen_stack)
    assert hashlib.sha256(journal.read_bytes()).hexdigest() == digest
    assert journal.stat().st_mtime_ns == mtime


async def test_start_up_offer_resumes_when_asked(killed: tuple[Path, Path]) -> None:
    journal, _work = killed
    app = plain_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ResumeOfferModal))
        await pilot.press("r")
        run, _modal = await interrupted_modal(pilot)
        assert run.state.session_id == journal.stem
        assert run.state.step("one").status is StepStatus.PASSED
    assert any(isinstance(e, ev.SessionResumed) for e in load(journal).events)


async def test_no_offer_without_an_unfinished_session(tmp_path: Path) -> None:
    finished_session(tmp_path / "work")
    app = plain_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause(0.2)
        assert isinstance(app.screen, LibraryScreen)
