"""``runbook-tui follow``: the journal tail (torn lines wait), and ``follow --plain`` against a real run."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from helpers.cli import cli_argv, run_cli
from helpers.engine import write_runbook
from helpers.follow import RUNBOOK, session_files, start_runner, wait_for_line

from runbook_tui.core import events as ev
from runbook_tui.core.follow import FollowedSession
from runbook_tui.core.journal import Journal, JournalError, load
from runbook_tui.core.journal.reader import JournalTail

# --- the tail --------------------------------------------------------------------


def test_a_half_written_line_waits_for_its_newline(tmp_path: Path) -> None:
    journal = Journal.create("s1", dir=tmp_path)
    journal.append(ev.NoteAdded(text="one", at=1.0))
    journal.close()
    with JournalTail(journal.path) as tail:
        assert [type(e) for e in tail.read()] == [ev.NoteAdded]
        line = json.dumps(ev.to_dict(ev.NoteAdded(text="two", at=2.0))).encode()
        with journal.path.open("ab") as handle:
            handle.write(line[:10])
            handle.flush()
            assert tail.read() == []  # being written: not damage, not an event yet
            assert tail.waiting
            handle.write(line[10:] + b"\n")
        got = tail.read()
        assert [getattr(e, "text", None) for e in got] == ["two"]
        assert tail.problems == [] and not tail.waiting


def test_a_torn_line_cut_off_by_resume_is_not_glued_to_what_comes_next(tmp_path: Path) -> None:
    journal = Journal.create("s4", dir=tmp_path)
    journal.close()
    size = journal.path.stat().st_size
    with JournalTail(journal.path) as tail:
        assert tail.read() == []
        with journal.path.open("ab") as handle:
            handle.write(b'{"kind":"note_added","at":"1970-01-0')  # the runner crashed mid-write
        assert tail.read() == [] and tail.waiting
        reopened = Journal.open_existing(journal.path)  # resume cuts the torn line off
        assert journal.path.stat().st_size == size
        reopened.append(ev.NoteAdded(text="after resume", at=3.0))
        reopened.close()
        got = tail.read()
        assert [getattr(e, "text", None) for e in got] == ["after resume"]
        assert tail.problems == [] and not tail.waiting


def test_the_tail_reads_the_same_events_as_load_whatever_the_chunk_size(tmp_path: Path) -> None:
    journal = Journal.create("s3", dir=tmp_path)
    journal.append(ev.StepStarted(step_id="a", title="A", phase="steps", step_kind="shell", at=1.0))
    texts = ["plain", 'quote " and \\ back', "tab\tand \u2028 sep", "ünïcödé ✔", "\x1b[31mred\x1b[0m", ""]
    lines = [
        ev.OutputLine(step_id="a", seq=i, stream="stderr" if i % 2 else "stdout", text=t, at=1.0 + i / 7)
        for i, t in enumerate(texts * 3)
    ]
    journal.append_output(lines)
    journal.append(ev.StepFinished(step_id="a", status="passed", duration=1.0, at=9.0))
    journal.close()
    for limit in (7, 64, 1 << 20):
        got: list[ev.Event] = []
        with JournalTail(journal.path) as tail:
            while chunk := tail.read(limit):
                got.extend(chunk)
            assert tail.problems == [] and not tail.waiting
        assert got == load(journal.path).events, limit


def test_a_foreign_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"not": "a journal"}\n')
    with JournalTail(path) as tail, pytest.raises(JournalError, match="not a runbook-tui session journal"):
        tail.read()


def test_followed_session_folds_what_it_reads(tmp_path: Path) -> None:
    journal = Journal.create("s2", dir=tmp_path)
    journal.append(ev.StepStarted(step_id="a", title="A", phase="steps", step_kind="shell", at=1.0))
    journal.append(ev.OutputLine(step_id="a", seq=1, stream="stdout", text="hello", at=1.5))
    journal.flush()
    seen: list[ev.Event] = []
    followed = FollowedSession(journal.path)
    followed.subscribe(seen.append)
    followed.poll()
    assert followed.state.step("a").output_lines == 1
    assert followed.outcome is None
    journal.append(ev.SessionFinished(outcome="failed", duration=2.0, at=3.0))
    journal.close()
    followed.poll()
    followed.close()
    assert followed.outcome is not None and followed.outcome.exit_code == 1
    assert [e.kind for e in seen] == ["step_started", "output", "session_finished"]


# --- follow --plain against a real running session ---------------------------------


@pytest.mark.parametrize(("code", "exit_code"), [(0, 0), (3, 1)])
def test_follow_plain_streams_a_running_session_and_exits_with_its_outcome(
    tmp_path: Path, code: int, exit_code: int
) -> None:
    runner, gate = start_runner(tmp_path, code)
    try:
        assert runner.stdout is not None
        wait_for_line(runner.stdout, r"slow stdout\| before 3", [])
        before = session_files()
        follower = subprocess.Popen(
            cli_argv("follow", "--plain"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert follower.stdout is not None
        seen: list[str] = []
        wait_for_line(follower.stdout, r"^following .*'s session .*slow", seen)
        wait_for_line(follower.stdout, r"first stdout\| first-line", seen)
        wait_for_line(follower.stdout, r"slow stdout\| before 3", seen)
        assert runner.poll() is None and follower.poll() is None  # live: the step is still running
        gate.touch()
        wait_for_line(follower.stdout, r"slow stdout\| after-gate", seen)
        wait_for_line(follower.stdout, r"session_finished\s+-\s+(SUCCEEDED|FAILED)", seen)
        _rest, err = follower.communicate(timeout=60)
        assert follower.returncode == exit_code, err
        runner.communicate(timeout=60)
        assert runner.returncode == exit_code
        # The follower wrote nothing beside the journal; the runner's note inbox ends with its session.
        assert session_files() == {f for f in before if not f.endswith(".inbox")}
    finally:
        gate.touch()
        runner.kill()
        runner.wait()


@pytest.mark.slow
def test_the_command_the_lock_refusal_names_works(tmp_path: Path) -> None:
    runner, gate = start_runner(tmp_path)
    try:
        assert runner.stdout is not None
        wait_for_line(runner.stdout, r"slow stdout\| before 3", [])
        path = write_runbook(tmp_path, RUNBOOK.format(gate=gate, code=0), name="again.yaml")
        refused = subprocess.run(
            cli_argv("run", str(path), "main", "--plain", "--yes", "--workdir", str(tmp_path)),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert refused.returncode == 2
        named = re.search(r"Watch it with '(runbook-tui follow [^']+)'", refused.stderr)
        assert named, refused.stderr
        gate.touch()  # the followed session finishes: follow replays it and ends
        follower = run_cli(*named[1].split()[1:], "--plain")
        assert follower.returncode == 0, follower.stderr
        assert "slow stdout| after-gate" in follower.stdout
    finally:
        gate.touch()
        runner.communicate(timeout=60)


def test_nothing_to_follow_is_bad_usage() -> None:
    done = run_cli("follow", "--plain")
    assert done.returncode == 2
    assert "no unfinished session to follow" in done.stderr
    named = run_cli("follow", "nosuch", "--plain")
    assert named.returncode == 2 and "no session 'nosuch'" in named.stderr


def test_follow_plain_says_when_the_runner_died_without_finishing(tmp_path: Path) -> None:
    """A runner killed mid-step (kill -9) never finishes the session: the follower says so and stops."""
    runner, gate = start_runner(tmp_path)
    try:
        assert runner.stdout is not None
        wait_for_line(runner.stdout, r"slow stdout\| before 3", [])
        follower = subprocess.Popen(
            cli_argv("follow", "--plain"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert follower.stdout is not None
        seen: list[str] = []
        wait_for_line(follower.stdout, r"slow stdout\| before 3", seen)
        runner.kill()  # SIGKILL: no session_finished, the lock file still names it
        runner.wait()
        line = wait_for_line(follower.stdout, r"did not finish", seen)
        assert f"pid {runner.pid}" in line and "runbook-tui resume" in line, "".join(seen)
        _rest, err = follower.communicate(timeout=60)
        assert follower.returncode == 3, err
    finally:
        gate.touch()  # the orphaned step's loop ends
        runner.kill()
        runner.wait()
