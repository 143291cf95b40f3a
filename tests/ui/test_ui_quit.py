"""Quitting while a step runs: leave the session open (resume later), abort it, or keep working.

Real shell steps in a real process group, the real journal, and ``runbook-tui resume --plain``
as a real subprocess afterwards.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from helpers.cli import run_cli
from helpers.ui import until
from textual.pilot import Pilot
from textual.widgets import Static

from runbook_tui.core import events as ev
from runbook_tui.core.events import StepStatus
from runbook_tui.core.journal import load
from runbook_tui.core.journal.fold import fold
from runbook_tui.core.loader import load_runbook
from runbook_tui.core.sessions import summarise
from runbook_tui.ui.app import AppOptions, RunbookApp
from runbook_tui.ui.screens.procedure import LEFT_OPEN_WHY, ProcedureScreen
from runbook_tui.ui.screens.quit import QuitModal, choices

# ``slow`` leaves its shell's pid (the process group's leader) and a grandchild's pid behind,
# so the test can see the whole group; run again (``again`` exists) it passes at once.
RUNBOOK = """
runbook: 1
id: quitter
title: Quitter
procedures:
  - id: main
    title: Main
    steps:
      - id: first
        title: First
        kind: shell
        command: "echo first-done"
      - id: slow
        title: Sleep thirty
        kind: shell
        command: >-
          if [ -e again ]; then echo second-time; else
          echo $$ > slow.pid; echo waiting;
          sh -c 'echo $$ > child.pid; exec sleep 30'; fi
      - id: after
        title: After
        kind: shell
        command: "echo after > after.txt"
"""


def quit_app(work: Path) -> RunbookApp:
    """The app as ``runbook-tui run quitter.yaml main`` starts it, journaled."""
    work.mkdir(parents=True, exist_ok=True)
    path = work / "quitter.yaml"
    path.write_text(RUNBOOK)
    options = AppOptions(
        runbook=load_runbook(path),
        procedure="main",
        workdir=work,
        probe_signals=False,
        find_entries=lambda dirs: [],
    )
    return RunbookApp(options)


def alive_in_group(pgid: int) -> list[int]:
    """Pids of live (not zombie) processes whose process group is ``pgid``, read from /proc."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # gone while we looked
            continue
        fields = text.rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp ...
        if fields[0] != "Z" and int(fields[2]) == pgid:
            pids.append(int(stat.parent.name))
    return pids


def pgid_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[2])


async def slow_running(pilot: Pilot[Any], work: Path) -> tuple[ProcedureScreen, int]:
    """Run every step; return once ``slow`` runs with its grandchild up, and its process group."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, ProcedureScreen) and app.screen.state.started_at)
    run = app.screen
    assert isinstance(run, ProcedureScreen)
    await pilot.press("a")
    child = work / "child.pid"
    await until(pilot, lambda: child.exists() and child.read_text().strip())
    leader = int((work / "slow.pid").read_text())
    group = pgid_of(int(child.read_text()))
    assert group == leader, "the step runs in its own process group, led by its shell"
    assert run.state.step("slow").status is StepStatus.RUNNING
    return run, group


def modal_text(modal: QuitModal) -> str:
    return str(modal.query_one("#quit-choices", Static).render())


async def test_leaving_open_stops_the_group_and_resume_continues_the_step(tmp_path: Path) -> None:
    work = tmp_path / "work"
    app = quit_app(work)
    async with app.run_test(size=(80, 24)) as pilot:
        run, group = await slow_running(pilot, work)
        await pilot.pause(0.2)  # "waiting" reaches the journal
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, QuitModal))
        modal = app.screen
        assert isinstance(modal, QuitModal)
        text = modal_text(modal)
        assert "Sleep thirty" in str(modal.query_one("#modal-title", Static).render())
        for shown in ("l or enter", "leave the session open", "runbook-tui resume", "a ", "abort", "escape"):
            assert shown in text, text
        started = time.monotonic()
        await pilot.press("enter")  # the default: leave it open
        await until(pilot, lambda: not app.is_running, timeout=20)
        took = time.monotonic() - started
    assert app.return_value == 0
    session_id = run.session.session_id
    assert app.left_open == [session_id]
    assert alive_in_group(group) == [], "the step's whole process group was stopped"
    assert took < 10, f"leaving took {took:.1f}s"

    journal = Path(run.session.journal_path)
    events = load(journal).events
    state = fold(events)
    assert not any(isinstance(e, ev.SessionFinished) for e in events), "the session is left unfinished"
    assert not summarise(journal).is_finished
    assert state.step("first").status is StepStatus.PASSED
    # Nothing marked failed or cancelled: the journal leaves the step running, and says why.
    assert state.step("slow").status is StepStatus.RUNNING
    assert not any(isinstance(e, ev.StepFinished) and e.step_id == "slow" for e in events)
    assert LEFT_OPEN_WHY in state.step("slow").tail[-1].text
    assert "runbook-tui resume" in state.step("slow").tail[-1].text
    assert state.step("after").status is StepStatus.PENDING and not (work / "after.txt").exists(), (
        "run-all did not go on to the next step once the session was left"
    )

    (work / "again").touch()
    resumed = run_cli("resume", session_id, "--plain", "--yes", cwd=work)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    after = load(journal).events
    interrupted = [(e.step_id, e.attempt) for e in after if isinstance(e, ev.StepInterrupted)]
    assert interrupted == [("slow", 1)], "resume saw the step interrupted"
    final = fold(after)
    assert final.step("slow").status is StepStatus.PASSED and final.step("slow").attempts == 2
    assert final.step("first").attempts == 1, "done before the quit: not run again"
    assert (work / "after.txt").read_text().strip() == "after"
    assert final.outcome == "succeeded"


async def test_keep_working_leaves_it_running_and_abort_records_an_abort(tmp_path: Path) -> None:
    work = tmp_path / "work"
    app = quit_app(work)
    async with app.run_test(size=(80, 24)) as pilot:
        run, group = await slow_running(pilot, work)
        # Ending (e) is not quitting: leaving open is not offered there, nor is finish.
        await pilot.press("e")
        await until(pilot, lambda: isinstance(app.screen, QuitModal))
        ending = app.screen
        assert isinstance(ending, QuitModal)
        assert "leave" not in modal_text(ending) and "finish" not in modal_text(ending)
        await pilot.press("enter", "l", "f")
        assert app.screen is ending and run.state.step("slow").status is StepStatus.RUNNING
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is run)

        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, QuitModal))
        await pilot.press("f")  # "finish" is not offered while a step runs
        assert isinstance(app.screen, QuitModal)
        await pilot.press("escape")  # keep working
        await until(pilot, lambda: app.screen is run)
        await pilot.pause(0.3)
        assert app.is_running and run.state.step("slow").status is StepStatus.RUNNING
        assert alive_in_group(group), "the step goes on running"

        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, QuitModal))
        await pilot.press("a")
        await until(pilot, lambda: not app.is_running, timeout=20)
    assert app.left_open == []
    assert alive_in_group(group) == []
    events = load(Path(run.session.journal_path)).events
    assert [e.outcome for e in events if isinstance(e, ev.SessionFinished)] == ["aborted"]
    assert any(
        isinstance(e, ev.StepFinished) and e.step_id == "slow" and e.status == "cancelled" for e in events
    )
    assert not (work / "after.txt").exists()


async def test_l_leaves_it_open_too(tmp_path: Path) -> None:
    work = tmp_path / "work"
    app = quit_app(work)
    async with app.run_test(size=(80, 24)) as pilot:
        run, group = await slow_running(pilot, work)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: isinstance(app.screen, QuitModal))
        await pilot.press("l")
        await until(pilot, lambda: not app.is_running, timeout=20)
    assert app.left_open == [run.session.session_id]
    assert alive_in_group(group) == []
    state = fold(load(Path(run.session.journal_path)).events)
    assert state.step("slow").status is StepStatus.RUNNING and state.finished_at is None


def test_every_choice_fits_the_box_without_wrapping() -> None:
    # The box holds 72 columns at 80x24 and wider; a wrapped line would lose its alignment.
    for running in ([], ["Sleep thirty"], ["Sleep thirty", "Watch health"]):
        for quitting in (True, False):
            modal = QuitModal(running, quitting=quitting)
            lines = choices(*modal._choices()).plain.splitlines()
            assert all(len(line) <= 72 for line in lines), lines
            assert lines[0].startswith("l or enter") == quitting, lines
