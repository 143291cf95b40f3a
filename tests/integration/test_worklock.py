"""One live session per working directory: two real processes, a stale lock of a killed one."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.cli import cli_argv, cli_env, run_cli

from runbook_tui import locations
from runbook_tui.core.journal import load
from runbook_tui.core.worklock import WorkdirLocked, WorkLock, lock_path, locks_dir, read_holder

SLOW = """\
runbook: 1
id: {id}
title: Slow | Rollback
procedures:
  - id: roll
    title: Roll back slowly
    steps:
      - id: pin
        title: Pin a version
        kind: shell
        command: |
          echo {id} >> pins.txt
          touch {id}.started
          if [ ! -f go.flag ]; then sleep 60; fi
"""


def write_runbook(folder: Path, rb_id: str) -> Path:
    path = folder / f"{rb_id}.yaml"
    path.write_text(SLOW.format(id=rb_id), encoding="utf-8")
    return path


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, timeout=90)


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        if time.monotonic() > deadline:
            pytest.fail(f"{path} never appeared")
        time.sleep(0.05)


@pytest.fixture
def first_run(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """A real ``run --plain`` blocked in its ``sleep`` step, in its own process group."""
    work = tmp_path / "work"
    work.mkdir()
    runbook = write_runbook(tmp_path, "v3")
    proc = subprocess.Popen(
        cli_argv("run", str(runbook), "roll", "--plain", "--yes"),
        cwd=work,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(work / "v3.started")
        yield proc, work
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def test_a_second_run_in_the_same_workdir_is_refused_naming_the_holder(
    first_run: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    proc, work = first_run
    (journal,) = locations.sessions_dir().glob("*.jsonl")
    other = write_runbook(tmp_path, "v1")  # another runbook: the workdir is what is locked
    result = cli("run", str(other), "roll", "--plain", "--yes", cwd=work)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    message = result.stderr
    assert f"session {journal.stem}" in message
    assert f"pid {proc.pid} on {socket.gethostname()}" in message
    assert "@" in message.split(" of ", 1)[1]  # the operator, user@host
    assert "since 20" in message  # the start time
    assert f"runbook-tui follow {journal.stem}" in message
    assert (work / "pins.txt").read_text().split() == ["v3"]  # v1 never ran over v3
    assert len(list(locations.sessions_dir().glob("*.jsonl"))) == 1  # the refusal wrote no journal

    # The same folder by another name (a symlink) is the same working directory.
    alias = tmp_path / "alias"
    alias.symlink_to(work)
    result = cli("run", str(other), "roll", "--plain", "--yes", "--workdir", str(alias), cwd=tmp_path)
    assert result.returncode == 2 and f"session {journal.stem}" in result.stderr

    # Resume of an older unfinished session in the same workdir is refused too, and writes nothing.
    (work / "go.flag").touch()  # (the live one would finish if it were let go; it is not)
    before = journal.read_bytes()
    result = cli("resume", journal.stem, "--plain", "--yes", cwd=work)
    assert result.returncode == 2 and f"pid {proc.pid}" in result.stderr
    assert journal.read_bytes() == before


def test_a_stale_lock_of_a_killed_process_is_taken_over_and_journalled(
    first_run: tuple[subprocess.Popen[bytes], Path], tmp_path: Path
) -> None:
    proc, work = first_run
    (old_journal,) = locations.sessions_dir().glob("*.jsonl")
    holder = read_holder(work)
    assert holder is not None and holder.pid == proc.pid and holder.session_id == old_journal.stem
    os.killpg(proc.pid, signal.SIGKILL)  # no chance to release anything
    proc.wait(timeout=30)
    (work / "go.flag").touch()
    result = cli("run", str(write_runbook(tmp_path, "v1")), "roll", "--plain", "--yes", cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"took over the lock of {work}: session {old_journal.stem}" in result.stdout
    (new_journal,) = [j for j in locations.sessions_dir().glob("*.jsonl") if j != old_journal]
    taken = [e for e in load(new_journal).events if e.kind == "lock_taken_over"]
    assert len(taken) == 1
    event = taken[0]
    assert event.previous_session_id == old_journal.stem  # type: ignore[attr-defined]
    assert event.previous_pid == proc.pid  # type: ignore[attr-defined]
    assert event.workdir == str(work)  # type: ignore[attr-defined]
    assert not lock_path(work).exists()  # released at the end: nothing stale is left
    report = cli("report", new_journal.stem, cwd=work)
    assert f"was taken over from session {old_journal.stem}" in report.stdout

    # The killed session resumes; its own stale lock is gone, so nothing is taken over again.
    result = cli("resume", old_journal.stem, "--plain", "--yes", cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "took over" not in result.stdout


def test_the_lock_file_is_private_unless_the_folder_is_a_teams(tmp_path: Path) -> None:
    lock = WorkLock.acquire(tmp_path, "s-1", "alice@host")
    try:
        assert stat.S_IMODE(lock.path.stat().st_mode) == 0o600
        data = json.loads(lock.path.read_text())
        assert data["session_id"] == "s-1" and data["operator"] == "alice@host" and data["pid"] == os.getpid()
        with pytest.raises(WorkdirLocked, match="session s-1 of alice@host"):
            WorkLock.acquire(tmp_path / ".", "s-2", "bob@host")  # same real path
    finally:
        lock.release()
    assert not lock.path.exists()
    shared = locks_dir()
    shared.chmod(0o2770)  # setgid and group-writable: a team's folder
    lock = WorkLock.acquire(tmp_path, "s-3", "carol@host")
    try:
        assert stat.S_IMODE(lock.path.stat().st_mode) == 0o660
    finally:
        lock.release()
