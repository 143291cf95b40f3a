"""Faults of the disk and the data folder, created for real: each is a message with exit 2, never a traceback.

A full disk is a real 64 KiB tmpfs mounted as the data folder (skipped where mount is not
permitted); an immutable folder is ``chattr +i`` (skipped where the filesystem has no such
attribute); a foreign-owned folder is one the CLI, run as ``nobody``, does not own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.cli import cli_argv, cli_env
from helpers.faults import FILL, alive, tmpfs

from runbook_tui.core.journal import load


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, user: int | None = None
) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess (as ``user`` when given, with setpriv)."""
    command = cli_argv(*args)
    if user is not None:
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    full_env = cli_env(env)
    return subprocess.run(
        command, capture_output=True, text=True, cwd=cwd, env=full_env, timeout=90, stdin=subprocess.DEVNULL
    )


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


def write_fill(folder: Path) -> Path:
    path = folder / "fill.yaml"
    path.write_text(FILL, encoding="utf-8")
    return path


# --- the data folder ------------------------------------------------------------------


def test_sessions_existing_as_a_file_is_a_message_naming_it(tmp_path: Path) -> None:
    data = Path(os.environ["RUNBOOK_TUI_DATA_DIR"])
    data.mkdir(parents=True)
    (data / "sessions").write_text("not a folder")
    result = cli("run", str(write_fill(tmp_path)), "roll", "--plain", "--yes", cwd=tmp_path)
    assert result.returncode == 2
    no_traceback(result)
    assert f"{data / 'sessions'} exists and is not a folder" in result.stderr
    assert "move it away" in result.stderr
    assert not (tmp_path / "marks.txt").exists()  # nothing ran unrecorded


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder outside pytest's 0700 tree, so ``nobody`` can reach it."""
    folder = Path(tempfile.mkdtemp(prefix="rbt-faults-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        with contextlib.suppress(OSError):
            subprocess.run(["chattr", "-R", "-i", str(folder)], capture_output=True, check=False)
        shutil.rmtree(folder, ignore_errors=True)


def _nobody_or_skip() -> int:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run the CLI as another user")
    return 65534


def test_a_data_folder_nobody_may_write_is_a_message(shared_tmp: Path) -> None:
    nobody = _nobody_or_skip()
    data = shared_tmp / "data"
    data.mkdir()
    data.chmod(0o755)  # root's: nobody can neither tighten it nor make anything inside
    work = shared_tmp / "work"
    work.mkdir()
    work.chmod(0o777)
    runbook = shared_tmp / "fill.yaml"
    runbook.write_text(FILL, encoding="utf-8")
    runbook.chmod(0o644)
    env = {"RUNBOOK_TUI_DATA_DIR": str(data), "HOME": str(work)}
    result = cli(
        "run",
        str(runbook),
        "roll",
        "--plain",
        "--yes",
        "--workdir",
        str(work),
        cwd=work,
        env=env,
        user=nobody,
    )
    no_traceback(result)
    assert result.returncode == 2
    assert "cannot create the folder: Permission denied" in result.stderr
    assert str(data) in result.stderr and "RUNBOOK_TUI_DATA_DIR" in result.stderr
    assert not (work / "marks.txt").exists()


def test_a_foreign_owned_writable_data_folder_runs(shared_tmp: Path) -> None:
    nobody = _nobody_or_skip()
    data = shared_tmp / "data"
    (data / "sessions").mkdir(parents=True)
    (data / "locks").mkdir()
    for folder in (data, data / "sessions", data / "locks"):
        folder.chmod(0o777)  # root's, open to all: nobody uses them but cannot make them private
    work = shared_tmp / "work"
    work.mkdir()
    work.chmod(0o777)
    runbook = shared_tmp / "fill.yaml"
    runbook.write_text(FILL.replace("sleep 60", "true"), encoding="utf-8")
    runbook.chmod(0o644)
    # nobody's own config folder: the journal reads config.toml (chain_key, sinks) and keeps
    # its chain key there; the test's default one is root's and unreadable to nobody.
    env = {
        "RUNBOOK_TUI_DATA_DIR": str(data),
        "HOME": str(work),
        "RUNBOOK_TUI_CONFIG_DIR": str(work / "config"),
    }
    result = cli(
        "run",
        str(runbook),
        "roll",
        "--plain",
        "--yes",
        "--workdir",
        str(work),
        cwd=work,
        env=env,
        user=nobody,
    )
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert f"{data / 'sessions'}: could not make the folder private (mode 0777)" in result.stderr
    assert f"chmod 700 {data / 'sessions'}" in result.stderr
    (journal,) = (data / "sessions").glob("*.jsonl")
    assert load(journal).events[-1].kind == "session_finished"


def test_an_immutable_sessions_folder_is_a_message(shared_tmp: Path) -> None:
    data = shared_tmp / "data"
    sessions = data / "sessions"
    sessions.mkdir(parents=True)
    sessions.chmod(0o755)
    made = subprocess.run(["chattr", "+i", str(sessions)], capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"this filesystem has no immutable attribute: {made.stderr.strip()}")
    work = shared_tmp / "work"
    work.mkdir()
    result = cli(
        "run",
        str(write_fill(shared_tmp)),
        "roll",
        "--plain",
        "--yes",
        cwd=work,
        env={"RUNBOOK_TUI_DATA_DIR": str(data)},
    )
    no_traceback(result)
    assert result.returncode == 2
    assert "could not make the folder private" in result.stderr  # the chmod: a warning only
    assert f"{sessions}/" in result.stderr and "cannot create the journal" in result.stderr
    assert "lsattr -d" in result.stderr
    assert not (work / "marks.txt").exists()


def test_an_unreadable_config_is_a_message(tmp_path: Path) -> None:
    folder = tmp_path / "config.toml"
    folder.mkdir()  # a folder where the file should be: reading it fails
    result = cli("list", cwd=tmp_path, env={"RUNBOOK_TUI_CONFIG": str(folder)})
    no_traceback(result)
    assert result.returncode == 2
    assert str(folder) in result.stderr


# --- a full disk --------------------------------------------------------------------


def test_a_full_disk_at_the_start_is_a_message_and_leaves_no_journal(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "data") as data:
        (data / "sessions").mkdir()
        with contextlib.suppress(OSError), (data / "ballast").open("wb") as ballast:
            ballast.write(b"x" * 128 * 1024)  # fill it to the last byte
        result = cli(
            "run",
            str(write_fill(tmp_path)),
            "roll",
            "--plain",
            "--yes",
            cwd=tmp_path,
            env={"RUNBOOK_TUI_DATA_DIR": str(data)},
        )
        no_traceback(result)
        assert result.returncode == 2
        assert "No space left on device" in result.stderr
        assert f"Free space on the disk that holds {data}" in result.stderr
        assert list((data / "sessions").iterdir()) == []  # no half-written header left behind
        assert not (tmp_path / "marks.txt").exists()


def test_a_disk_that_fills_during_a_step_stops_it_and_the_session_resumes(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    runbook = write_fill(tmp_path)
    with tmpfs(tmp_path / "data") as data:
        env = {"RUNBOOK_TUI_DATA_DIR": str(data)}
        result = cli(
            "run", str(runbook), "roll", "--plain", "--yes", "--workdir", str(work), cwd=work, env=env
        )
        no_traceback(result)
        assert result.returncode == 2, result.stderr
        (journal,) = (data / "sessions").glob("*.jsonl")
        session_id = journal.stem
        assert "No space left on device" in result.stderr
        assert str(journal) in result.stderr
        assert f"'runbook-tui resume {session_id}' continues the session" in result.stderr
        assert "the journal cannot be written" in result.stdout  # said on the step's own output too
        # The step was stopped (its process group), and nothing after it ran.
        assert (work / "marks.txt").read_text().split() == ["one", "started"]
        assert not alive(int((work / "chatty.pid").read_text()))
        # The journal up to the fault is intact: what it holds reads back, step one is done.
        loaded = load(journal)
        assert not [p for p in loaded.problems if "unreadable" in p]
        kinds = [(e.kind, getattr(e, "step_id", None)) for e in loaded.events]
        assert ("step_finished", "one") in kinds and ("step_started", "chatty") in kinds
        assert ("step_finished", "chatty") not in kinds

        # Still full: resume says so again and runs nothing.
        (work / "resumed.flag").touch()
        again = cli("resume", session_id, "--plain", "--yes", cwd=work, env=env)
        no_traceback(again)
        assert again.returncode == 2 and "No space left on device" in again.stderr
        assert (work / "marks.txt").read_text().split() == ["one", "started"]

        # Space freed: resume continues where it stopped, step one is not run again.
        subprocess.run(["mount", "-o", "remount,size=8m", str(data)], check=True)
        done = cli("resume", session_id, "--plain", "--yes", cwd=work, env=env)
        no_traceback(done)
        assert done.returncode == 0, done.stdout + done.stderr
        assert (work / "marks.txt").read_text().split() == ["one", "started", "started", "finished", "three"]
        events = load(journal).events
        assert [e.kind for e in events if getattr(e, "step_id", None) == "one"].count("step_started") == 1
        assert events[-1].kind == "session_finished"


def test_the_hang_up_signal_still_leaves_the_lock_free(tmp_path: Path) -> None:
    """A SIGTERM'd run (the hang-up path) leaves no live lock: the next run is not refused."""
    work = tmp_path / "work"
    work.mkdir()
    runbook = write_fill(tmp_path)
    proc = subprocess.Popen(
        cli_argv("run", str(runbook), "roll", "--plain", "--yes"),
        cwd=work,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        _wait_for(work / "chatty.pid")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    (work / "resumed.flag").touch()
    result = cli("resume", "--plain", "--yes", cwd=work)
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "lock_taken_over" not in result.stdout  # released cleanly: nothing stale to take over


def _wait_for(path: Path) -> None:
    import time

    deadline = time.monotonic() + 60
    while not path.exists():
        if time.monotonic() > deadline:
            pytest.fail(f"{path} never appeared")
        time.sleep(0.05)


def test_ensure_private_dir_accepts_an_existing_folder_and_tightens_only_what_it_may(tmp_path: Path) -> None:
    from runbook_tui import locations

    folder = tmp_path / "open"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    assert locations.ensure_private_dir(folder) == folder
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    shared = tmp_path / "team"
    shared.mkdir()
    shared.chmod(0o2770)  # a team's setgid folder keeps its group bits
    locations.ensure_private_dir(shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o2770
