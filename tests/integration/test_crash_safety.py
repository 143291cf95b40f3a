"""Crashes: kill -9 of a headless run at random moments, journals cut at every byte, and resume."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers.cli import cli_argv, run_cli
from helpers.engine import runbook_from, write_runbook

from runbook_tui.core import events as ev
from runbook_tui.core.asker import YesAsker
from runbook_tui.core.engine import Session
from runbook_tui.core.events import Outcome, StepStatus
from runbook_tui.core.journal import load
from runbook_tui.core.journal.fold import fold

pytestmark = pytest.mark.slow  # every test here takes seconds (tests/README.md)

PROCEDURE = """
runbook: 1
id: crashy
title: Crashy
procedures:
  - id: main
    title: Main
    recovery_window: 1h
    prechecks:
      - id: pre
        title: Pre
        kind: shell
        command: "echo ready"
    steps:
      - id: one
        title: One
        kind: shell
        command: "for i in $(seq 1 40); do echo one-$i; echo err-$i >&2; sleep 0.01; done"
      - id: two
        title: Two
        kind: shell
        command: "for i in $(seq 1 20); do echo two-$i; sleep 0.02; done"
        confirm: Two changes things
      - id: three
        title: Three
        kind: shell
        command: "seq 1 3000; sleep 0.1; echo three-done"
      # Outlasts the latest kill (1.3 s after the journal appears), so every kill lands mid-run.
      - id: four
        title: Four
        kind: shell
        command: "sleep 5; echo four-done"
"""


def _sessions_dir() -> Path:
    return Path(os.environ["RUNBOOK_TUI_DATA_DIR"]) / "sessions"


def _start(path: Path, workdir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cli_argv("run", str(path), "main", "--plain", "--yes", "--workdir", str(workdir)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )


def _check_loads(journal: Path) -> None:
    loaded = load(journal)  # never raises for a crash
    if loaded.events:
        assert isinstance(loaded.events[0], ev.SessionStarted)
    state = fold(loaded.events)
    for step_id in state.step_order:
        step = state.steps[step_id]
        seqs = [t.seq for t in step.tail]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)  # output kept its order
    if not loaded.torn_tail:
        assert all("cut off" not in p for p in loaded.problems)


def _wait_for_new_journal(before: set[Path], proc: subprocess.Popen[bytes], limit: float = 30.0) -> None:
    """Return once the run has created its journal (or has ended, or ``limit`` passed)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and proc.poll() is None:
        if _sessions_dir().exists() and set(_sessions_dir().glob("*.jsonl")) - before:
            return
        time.sleep(0.02)


def test_kill_9_at_random_moments_leaves_a_journal_that_loads(tmp_path: Path) -> None:
    path = write_runbook(tmp_path, PROCEDURE)
    rng = random.Random(20240611)
    seen_running = 0
    for attempt in range(10):
        before = set(_sessions_dir().glob("*.jsonl")) if _sessions_dir().exists() else set()
        proc = _start(path, tmp_path)
        # Random moments counted from the journal's creation, not from the fork: on a loaded
        # machine (xdist, CI) start-up alone can outlast a fixed delay, and no kill would land.
        _wait_for_new_journal(before, proc)
        time.sleep(rng.uniform(0.0, 1.3))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        new = set(_sessions_dir().glob("*.jsonl")) - before
        if not new:
            continue  # killed before the journal existed: nothing to lose
        (journal,) = new
        _check_loads(journal)
        state = fold(load(journal).events)
        seen_running += bool(state.running())
        assert proc.returncode == -signal.SIGKILL, attempt
    assert seen_running >= 3, "too few kills landed mid-step to prove anything; adjust the timings"


def test_a_journal_cut_at_every_byte_still_loads(tmp_path: Path) -> None:
    path = write_runbook(
        tmp_path,
        """
        runbook: 1
        id: short
        title: Short
        parameters:
          - name: tag
        procedures:
          - id: main
            title: Main
            steps:
              - id: a
                title: A
                kind: shell
                command: "echo {{tag}}; echo warn >&2"
                confirm: go
        """,
    )
    done = run_cli("run", str(path), "main", "--plain", "--yes", "--param", "tag=v1", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (journal,) = _sessions_dir().glob("*.jsonl")
    full = journal.read_bytes()
    whole = load(journal)
    assert not whole.torn_tail and len(whole.events) >= 8
    cut = tmp_path / "cut.jsonl"
    for offset in range(len(full)):
        cut.write_bytes(full[:offset])
        loaded = load(cut)
        ends_clean = offset == 0 or full[offset - 1 : offset] == b"\n"
        whole_lines = full[:offset].count(b"\n")
        if ends_clean and offset:
            assert not loaded.torn_tail and len(loaded.events) == whole_lines - 1
        else:
            assert loaded.torn_tail or loaded.problems  # a cut is always reported
        assert loaded.events == whole.events[: len(loaded.events)]  # what loads is exactly what was written
        fold(loaded.events)


def test_resume_after_kill_9_mid_step_keeps_what_was_done(tmp_path: Path) -> None:
    path = write_runbook(tmp_path, PROCEDURE.replace("sleep 0.02", "sleep 0.1"))
    proc = _start(path, tmp_path)
    deadline = time.monotonic() + 30
    journal: Path | None = None
    while time.monotonic() < deadline:
        found = list(_sessions_dir().glob("*.jsonl")) if _sessions_dir().exists() else []
        if found and "two-3" in found[0].read_text():
            journal = found[0]
            break
        time.sleep(0.05)
    assert journal is not None, "step two never printed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    before = fold(load(journal).events)
    assert before.step("one").status is StepStatus.PASSED
    assert before.step("two").status is StepStatus.RUNNING
    printed = before.step("two").output_lines
    assert printed >= 3

    runbook = runbook_from(tmp_path, PROCEDURE.replace("sleep 0.02", "sleep 0.1"))
    import asyncio

    async def go() -> Session:
        session = Session.resume(journal, runbook, YesAsker(), workdir=tmp_path)
        after_resume = session.state
        assert after_resume.step("two").status is StepStatus.INTERRUPTED
        assert after_resume.step("two").output_lines == printed  # what it printed is kept
        assert after_resume.started_at == before.started_at  # the clock continues from the original start
        await session.start()
        assert await session.run_all() is True
        assert await session.finish() is Outcome.SUCCEEDED
        return session

    session = asyncio.run(go())
    state = fold(load(journal).events)
    assert state == session.state
    assert state.resumed == 1 and state.outcome == "succeeded"
    assert state.step("one").attempts == 1  # completed steps were not run again
    assert state.step("two").attempts == 2 and state.step("two").status is StepStatus.PASSED
    kinds = [e.kind for e in load(journal).events]
    assert kinds.index("step_interrupted") < kinds.index("session_resumed")
    assert kinds.count("session_started") == 1
    assert state.finished_at is not None and state.started_at is not None
    assert state.duration is not None and state.duration >= state.finished_at - state.started_at - 0.01


def _kill_during_step_two(path: Path, workdir: Path) -> Path:
    proc = _start(path, workdir)
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            found = list(_sessions_dir().glob("*.jsonl")) if _sessions_dir().exists() else []
            if found and "two-2" in found[0].read_text():
                return found[0]
            time.sleep(0.05)
        raise AssertionError("step two never printed")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


def test_plain_resume_asks_before_rerunning_and_yes_reruns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from runbook_tui.console import runner as plain

    text = PROCEDURE.replace("sleep 0.02", "sleep 0.1")
    journal = _kill_during_step_two(write_runbook(tmp_path, text), tmp_path)
    runbook = runbook_from(tmp_path, text)
    # No terminal and no --yes: nothing is re-run behind the engineer's back; the session stays open.
    assert plain.resume(journal, runbook, yes=False) == 1
    out = capsys.readouterr().out
    assert "step two (Two) was interrupted" in out and "pass --yes" in out
    assert fold(load(journal).events).outcome is None
    assert plain.resume(journal, runbook, yes=True) == 0
    state = fold(load(journal).events)
    assert state.outcome == "succeeded" and state.resumed == 2
    assert state.step("two").attempts == 2 and state.step("one").attempts == 1


HANG = """
runbook: 1
id: hangs
title: Hangs
procedures:
  - id: main
    title: Main
    steps:
      - id: first
        title: First
        kind: shell
        command: "echo first-done"
      - id: slow
        title: Slow
        kind: shell
        command: "if [ -e again ]; then echo second-time; else echo $$ > slow.pid; echo waiting; sleep 60; fi"
"""


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_a_hang_up_stops_the_step_and_leaves_the_session_to_resume(tmp_path: Path, signum: int) -> None:
    path = write_runbook(tmp_path, HANG)
    proc = _start(path, tmp_path)
    pid_file = tmp_path / "slow.pid"
    deadline = time.monotonic() + 30
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pid_file.exists(), proc.stderr.read().decode() if proc.stderr else ""
    time.sleep(0.3)  # let "waiting" reach the journal
    proc.send_signal(signum)
    assert proc.wait(timeout=20) == 130

    step_pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # the command did not outlive the terminal
        os.kill(step_pid, 0)
    (journal,) = _sessions_dir().glob("*-hangs-*.jsonl")
    events = load(journal).events
    state = fold(events)
    assert state.step("first").status is StepStatus.PASSED
    assert state.step("slow").status is StepStatus.RUNNING  # as left: resume calls it interrupted
    assert not any(isinstance(e, ev.SessionFinished) for e in events)
    assert "asks whether to run it again" in state.step("slow").tail[-1].text

    (tmp_path / "again").touch()
    resumed = run_cli("resume", "--plain", "--yes", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    after = fold(load(journal).events)
    assert after.step("slow").status is StepStatus.PASSED and after.step("slow").attempts == 2
    assert after.step("first").attempts == 1  # done before the drop: not run again
