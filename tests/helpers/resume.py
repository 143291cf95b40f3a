"""Real sessions to resume: run by the real engine in a subprocess, finished, killed or damaged."""

from __future__ import annotations

import hashlib
import os
import signal
from pathlib import Path

from helpers.cli import run_cli, start_cli, wait_for_output
from helpers.journals import JournalWriter
from runbook_tui import locations
from runbook_tui.core import events as ev

TINY = """\
runbook: 1
id: tiny
title: Tiny | Rollback
procedures:
  - id: roll
    title: Roll back the tiny service
    recovery_window: 1 minute
    steps:
      - id: one
        title: First step
        kind: shell
        command: echo one-done && echo one >> marks.txt
      - id: two
        title: Slow step
        kind: shell
        command: |
          echo two-started
          echo two >> marks.txt
          if [ ! -f resumed.flag ]; then sleep 60; fi
          echo two-done
      - id: three
        title: Last step
        kind: shell
        command: echo three >> marks.txt
        milestone: resolved
"""


def write_tiny_runbook(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "tiny.yaml"
    path.write_text(TINY, encoding="utf-8")
    return path


def killed_session(work: Path) -> Path:
    """Run the tiny runbook with the real engine and SIGKILL it while step ``two`` runs."""
    runbook = write_tiny_runbook(work)
    proc = start_cli("run", str(runbook), "roll", "--plain", "--yes", "--workdir", str(work), cwd=work)
    try:
        wait_for_output("two-started")
    finally:
        proc.kill()  # SIGKILL: no chance to write anything more
        proc.wait(timeout=10)
    (journal,) = locations.sessions_dir().glob("*.jsonl")
    return journal


def finished_session(work: Path) -> Path:
    """A whole run of the tiny runbook by the real engine."""
    runbook = write_tiny_runbook(work)
    (work / "resumed.flag").touch()
    result = run_cli("run", str(runbook), "roll", "--plain", "--yes", "--workdir", str(work), cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    (journal,) = locations.sessions_dir().glob("*.jsonl")
    return journal


def unfinished_session(folder: Path, sid: str, at: float, runbook: Path, work: Path) -> Path:
    w = JournalWriter(folder / f"{sid}.jsonl", sid)
    w.add(
        ev.SessionStarted(
            at=at,
            session_id=sid,
            runbook_id="tiny",
            runbook_title="Tiny | Rollback",
            runbook_path=str(runbook),
            runbook_sha256=hashlib.sha256(runbook.read_bytes()).hexdigest(),
            procedure_id="roll",
            procedure_title="Roll back the tiny service",
            mode="live",
            operator="alice@bastion-1",
            app_version="0.1.0",
            target_seconds=60.0,
            window_text="1 minute",
            workdir=str(work),
        )
    )
    w.add(ev.StepStarted(at=at + 1, step_id="one", title="First step", step_kind="shell", phase="step"))
    w.add(ev.StepFinished(at=at + 2, step_id="one", status="passed", duration=1.0, exit_code=0))
    return w.path


def damage_line(journal: Path, kind: str, step_id: str) -> int:
    """Overwrite the line of ``kind`` for ``step_id`` with garbage of the same length; its number."""
    lines = journal.read_bytes().split(b"\n")
    for index, line in enumerate(lines):
        if line.startswith(b'{"kind":"%s"' % kind.encode()) and b'"step_id":"%s"' % step_id.encode() in line:
            lines[index] = b"#" * len(line)  # unreadable, its step_id too: the neighbours name it
            journal.write_bytes(b"\n".join(lines))
            return index + 1
    raise AssertionError(f"no {kind} line for {step_id} in {journal}")


def stop_leftovers(work: Path) -> None:
    """SIGKILL of a run leaves its step's shell running in its own process group: stop those."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if Path(os.readlink(entry / "cwd")) != work.resolve():
                continue
            pid = int(entry.name)
            group = os.getpgid(pid)
            if group != os.getpgid(0):
                os.killpg(group, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
        except OSError:
            continue  # gone already, or not ours to read
