"""Resuming a session with many output lines: one pass over the journal, memory bounded by the tail.

The journals are written by the engine's own writer (``Journal.append_output``), and
resumed by the real ``Session.resume`` against a real runbook file; the old way
(``fold(load(path).events)``) is the reference the resumed state must equal.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

from helpers.engine import NoAsker
from helpers.paths import TESTS_DIR

from runbook_tui.core import events as ev
from runbook_tui.core.engine import Session
from runbook_tui.core.journal import Journal, fold_file, load
from runbook_tui.core.journal.fold import TAIL_LINES, fold
from runbook_tui.core.loader import load_runbook

T0 = 1_790_000_000.0
SID = "20261118T100000Z-tiny-0001"

TINY = """\
runbook: 1
id: tiny
title: Tiny
procedures:
  - id: roll
    title: Roll back the tiny service
    steps:
      - id: one
        title: Noisy step
        kind: shell
        command: seq 1000000
      - id: two
        title: Watch step
        kind: shell
        command: echo watching
      - id: three
        title: Last step
        kind: shell
        command: echo three
"""


def write_session(folder: Path, lines: int) -> tuple[Path, Path]:
    """A crashed session: step one printed ``lines`` lines and passed, two and three were running.

    Steps two and three print interleaved (a watch beside a foreground step), with text
    that needs JSON escapes; the journal ends mid-step, as after a SIGKILL.
    """
    runbook = folder / "tiny.yaml"
    runbook.write_text(TINY, encoding="utf-8")
    journal = Journal.create(SID, folder)
    add = journal.append
    add(
        ev.SessionStarted(
            session_id=SID,
            runbook_id="tiny",
            runbook_title="Tiny",
            runbook_path=str(runbook),
            runbook_sha256=hashlib.sha256(runbook.read_bytes()).hexdigest(),
            procedure_id="roll",
            procedure_title="Roll back the tiny service",
            mode="live",
            operator="me@host",
            app_version="test",
            workdir=str(folder),
            at=T0,
        )
    )
    add(ev.ParameterSet(name="tag", value="v1.2.3", source="command-line", at=T0 + 0.5))
    add(ev.ParameterSet(name="token", value="[redacted]", secret=True, at=T0 + 0.6))
    add(ev.StepStarted(step_id="one", title="Noisy step", step_kind="shell", phase="step", at=T0 + 1))
    for start in range(0, lines, 1000):
        at = T0 + 2 + start / 50_000
        journal.append_output(
            [
                ev.OutputLine(step_id="one", seq=i, stream="stdout", text=f"line {i}", at=at)
                for i in range(start + 1, min(start + 1000, lines) + 1)
            ]
        )
    add(ev.NoteAdded(text="error rate down", step_id="one", author="me", at=T0 + 30))
    add(ev.StepFinished(step_id="one", status="passed", duration=29.0, exit_code=0, at=T0 + 30.5))
    add(ev.StepStarted(step_id="two", title="Watch step", step_kind="shell", phase="step", at=T0 + 31))
    add(ev.StepStarted(step_id="three", title="Last step", step_kind="shell", phase="step", at=T0 + 31.2))
    for i in range(1, 121):
        step = "two" if i % 3 else "three"
        text = f'quote " back \\ tab \t é 😀 {i}' if i % 2 else f"plain {i}"
        stream = "stderr" if i % 5 == 0 else "stdout"
        add(ev.OutputLine(step_id=step, seq=i, stream=stream, text=text, at=T0 + 32 + i * 0.013))
    add(ev.NoteAdded(text="still watching", author="me", at=T0 + 40))
    journal.close()
    return journal.path, runbook


def resume(journal: Path, runbook: Path) -> Session:
    return Session.resume(journal, load_runbook(runbook), NoAsker())  # type: ignore[arg-type]


def test_fold_file_equals_load_then_fold(tmp_path: Path) -> None:
    path, _ = write_session(tmp_path, 2_000)
    old = fold(load(path).events)
    streamed = fold_file(path)
    assert streamed.state == old
    assert not streamed.torn_tail and streamed.problems == []
    assert streamed.session_id == SID
    # The parts the resume modal and the run screen read, spelled out.
    one = streamed.state.step("one")
    assert (one.status, one.output_lines, one.last_seq) == (ev.StepStatus.PASSED, 2_000, 2_000)
    assert [t.text for t in one.tail] == [f"line {i}" for i in range(2_000 - TAIL_LINES + 1, 2_001)]
    assert one.tail[-1].at == old.step("one").tail[-1].at
    two = streamed.state.step("two")
    assert (two.output_lines, len(two.tail)) == (80, TAIL_LINES)
    assert two.tail[-1].text == 'quote " back \\ tab \t é 😀 119'
    assert streamed.state.step_order == ("one", "two", "three")


def test_resumed_state_equals_the_old_fold(tmp_path: Path) -> None:
    path, runbook = write_session(tmp_path, 3_000)
    before = load(path).events
    old = fold(before)
    session = resume(path, runbook)
    session.close()
    after = load(path).events
    assert after[: len(before)] == before  # nothing rewritten, only appended
    added = after[len(before) :]
    # me@host started it; whoever resumes here is someone else: a handoff (issue 17).
    assert [e.kind for e in added] == ["step_interrupted", "step_interrupted", "session_resumed", "handoff"]
    state = session.state
    assert state == fold(before + added)  # what the old resume would hold, event for event
    assert state == fold(after)
    for step_id in ("one", "two", "three"):
        got, want = state.step(step_id), old.step(step_id)
        assert (got.started_at, got.attempts, got.title) == (want.started_at, want.attempts, want.title)
        assert (got.tail, got.output_lines, got.notes) == (want.tail, want.output_lines, want.notes)
    assert state.step("one").finished_at == T0 + 30.5
    assert state.step("two").finished_at == added[0].at  # interrupted when resumed
    assert state.step("one").status is ev.StepStatus.PASSED
    assert state.step("two").status is ev.StepStatus.INTERRUPTED
    assert state.step("three").status is ev.StepStatus.INTERRUPTED
    assert dict(state.params) == {"tag": "v1.2.3", "token": "[redacted]"}
    assert [n.text for n in state.notes] == ["error rate down", "still watching"]
    assert (state.started_at, state.resumed) == (T0, 1)


def test_resume_of_a_torn_journal_equals_the_old_fold(tmp_path: Path) -> None:
    path, runbook = write_session(tmp_path, 500)
    full = path.read_bytes()
    path.write_bytes(full[:-7])  # the last note cut mid-write
    shutil.copy(path, tmp_path / "copy.jsonl")
    before = load(path)
    assert before.torn_tail
    session = resume(path, runbook)
    session.close()
    assert any("cut off" in w for w in session.warnings)
    assert Path(f"{path}.torn").read_bytes() == full[full[:-7].rfind(b"\n") + 1 : -7]
    after = load(path)
    assert not after.torn_tail and after.problems == []
    assert after.events[: len(before.events)] == before.events
    assert session.state == fold(after.events)
    assert fold_file(tmp_path / "copy.jsonl").state == fold(before.events)


PROBE = """
import json, sys
from pathlib import Path
from helpers.engine import NoAsker
from runbook_tui.core.engine import Session
from runbook_tui.core.loader import load_runbook

def status(key):
    with open("/proc/self/status") as handle:
        return next(int(l.split()[1]) for l in handle if l.startswith(key + ":"))

def rchar():
    with open("/proc/self/io") as handle:
        return next(int(l.split()[1]) for l in handle if l.startswith("rchar:"))

runbook = load_runbook(Path(sys.argv[2]))
rss, read = status("VmRSS"), rchar()
session = Session.resume(Path(sys.argv[1]), runbook, NoAsker())
read = rchar() - read
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a child of a big pytest
# process would report pytest's peak as its own.
growth = status("VmHWM") - rss
session.close()
one = session.state.step("one")
print(json.dumps({"growth_mb": growth / 1024, "read": read, "lines": one.output_lines,
                  "tail": [t.text for t in one.tail], "two": session.state.step("two").status}))
"""


def test_resuming_200k_output_lines_reads_once_in_bounded_memory(tmp_path: Path) -> None:
    lines = 200_000
    path, runbook = write_session(tmp_path, lines)
    size = path.stat().st_size
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(path), str(runbook)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=TESTS_DIR,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout)
    growth, read = figures["growth_mb"], figures["read"] / size
    print(f"\n200k-line resume: +{growth:.1f} MB peak, read {read:.2f}x the journal")
    assert figures["lines"] == lines and figures["two"] == "interrupted"
    assert figures["tail"] == [f"line {i}" for i in range(lines - TAIL_LINES + 1, lines + 1)]
    # Holding every output event costs ~50 MB here (the old resume); the state is a few KB.
    assert figures["growth_mb"] < 15
    # Once through the file (plus the few KB of imports resume does lazily); it used to be 3x.
    assert size <= figures["read"] < 1.25 * size
