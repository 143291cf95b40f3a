"""The journal: round trip, fsync'd ordering, private modes, torn tails, foreign files."""

from __future__ import annotations

import asyncio
import json
import os
import re
import stat
import threading
import time
from pathlib import Path

import pytest

from runbook_tui.core import events as ev
from runbook_tui.core.journal import (
    OUTPUT_FLUSH_SECONDS,
    Journal,
    JournalError,
    load,
    new_session_id,
)


def _started(session_id: str = "s1") -> ev.SessionStarted:
    return ev.SessionStarted(
        session_id=session_id,
        runbook_id="rb",
        runbook_title="RB",
        runbook_path="/x/rb.yaml",
        runbook_sha256="ab" * 32,
        procedure_id="p",
        procedure_title="P",
        mode="live",
        operator="me@host",
        app_version="0.1.0",
        target_seconds=300.0,
    )


def _session_events() -> list[ev.Event]:
    return [
        _started(),
        ev.ParameterSet(name="tag", value="v1.0.0", source="command-line"),
        ev.StepStarted(step_id="a", title="A", step_kind="shell", phase="step", command="run: echo"),
        ev.OutputLine(step_id="a", seq=1, stream="stdout", text="hello", ansi="\x1b[1mhello\x1b[0m"),
        ev.OutputLine(step_id="a", seq=2, stream="stderr", text="wörld ✓"),
        ev.StepFinished(step_id="a", status="passed", duration=0.5, exit_code=0, data={"tags": ["v1"]}),
        ev.NoteAdded(text="looks fine", step_id="a", author="me"),
        ev.SessionFinished(outcome="succeeded", duration=1.0),
    ]


def test_session_id_sorts_by_start_and_names_the_runbook() -> None:
    first = new_session_id("ConnectIn API", at=1_700_000_000)
    later = new_session_id("connectin-api", at=1_700_000_001)
    assert re.fullmatch(r"\d{8}T\d{6}Z-connectin-api-[0-9a-f]{4}", first)
    assert first < later


def test_round_trip_keeps_every_event_but_never_ansi(tmp_path: Path) -> None:
    journal = Journal.create("s1", dir=tmp_path / "sessions")
    written = _session_events()
    for event in written:
        journal.append(event)
    journal.close()

    loaded = load(journal.path)
    assert loaded.header["schema"] == ev.SCHEMA_VERSION
    assert loaded.header["session_id"] == "s1"
    assert not loaded.torn_tail and loaded.problems == []
    assert [e.kind for e in loaded.events] == [e.kind for e in written]
    output = [e for e in loaded.events if isinstance(e, ev.OutputLine)]
    assert [o.text for o in output] == ["hello", "wörld ✓"]
    assert all(o.ansi == "" for o in output)
    assert "\x1b" not in journal.path.read_text()
    finished = loaded.events[5]
    assert isinstance(finished, ev.StepFinished) and finished.data == {"tags": ["v1"]}
    # Every line is compact JSON, one event each.
    lines = journal.path.read_text().splitlines()
    assert len(lines) == len(written) + 1
    assert all(json.loads(line) for line in lines)


def test_private_modes(tmp_path: Path) -> None:
    old = os.umask(0)  # even a permissive umask gives nothing away
    try:
        journal = Journal.create("s1", dir=tmp_path / "sessions")
    finally:
        os.umask(old)
    journal.close()
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(journal.path.parent.stat().st_mode) == 0o700


def test_default_dir_is_the_sessions_dir(isolated_dirs: Path) -> None:
    journal = Journal.create("s2")
    journal.close()
    assert journal.path == isolated_dirs / "data" / "sessions" / "s2.jsonl"


def test_create_refuses_to_overwrite(tmp_path: Path) -> None:
    Journal.create("s1", dir=tmp_path).close()
    with pytest.raises(JournalError, match="already exists"):
        Journal.create("s1", dir=tmp_path)


def _lines_on_disk(path: Path) -> list[str]:
    return [json.loads(line)["kind"] for line in path.read_text().splitlines()[1:]]


def test_state_changes_are_on_disk_before_append_returns(tmp_path: Path) -> None:
    journal = Journal.create("s1", dir=tmp_path)
    journal.append(_started())
    assert _lines_on_disk(journal.path) == ["session_started"]
    journal.append(ev.StepStarted(step_id="a", title="A", step_kind="shell", phase="step"))
    assert _lines_on_disk(journal.path) == ["session_started", "step_started"]
    journal.close()


def test_output_is_batched_then_flushed_by_time(tmp_path: Path) -> None:
    journal = Journal.create("s1", dir=tmp_path)
    journal.append(_started())
    journal.append(ev.OutputLine(step_id="a", seq=1, stream="stdout", text="x"))
    assert _lines_on_disk(journal.path) == ["session_started"]  # still in memory
    deadline = time.monotonic() + OUTPUT_FLUSH_SECONDS + 1.0
    while time.monotonic() < deadline and len(_lines_on_disk(journal.path)) < 2:
        time.sleep(0.01)
    assert _lines_on_disk(journal.path) == ["session_started", "output"]
    journal.close()


async def test_output_flush_by_time_inside_an_event_loop(tmp_path: Path) -> None:
    journal = Journal.create("s1", dir=tmp_path)
    journal.append(ev.OutputLine(step_id="a", seq=1, stream="stdout", text="x"))
    assert _lines_on_disk(journal.path) == []
    started = time.monotonic()
    while len(_lines_on_disk(journal.path)) < 1:
        await asyncio.sleep(0.01)
    assert time.monotonic() - started < OUTPUT_FLUSH_SECONDS + 0.3
    journal.close()


def test_output_is_always_written_before_the_next_event(tmp_path: Path) -> None:
    journal = Journal.create("s1", dir=tmp_path)
    for seq in range(1, 6):
        journal.append(ev.OutputLine(step_id="a", seq=seq, stream="stdout", text=str(seq)))
    journal.append(ev.StepFinished(step_id="a", status="passed", duration=0.1))
    assert _lines_on_disk(journal.path) == ["output"] * 5 + ["step_finished"]
    journal.close()
    seqs = [e.seq for e in load(journal.path).events if isinstance(e, ev.OutputLine)]
    assert seqs == [1, 2, 3, 4, 5]


def test_appends_from_threads_keep_whole_lines(tmp_path: Path) -> None:
    journal = Journal.create("s1", dir=tmp_path)

    def writer(step: str) -> None:
        for seq in range(2000):
            journal.append(ev.OutputLine(step_id=step, seq=seq, stream="stdout", text="y" * 50))

    threads = [threading.Thread(target=writer, args=(s,)) for s in "abcd"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    journal.close()
    loaded = load(journal.path)
    assert loaded.problems == [] and len(loaded.events) == 8000
    for step in "abcd":
        assert [e.seq for e in loaded.events if e.step_id == step] == list(range(2000))  # type: ignore[attr-defined]


def _write_session(tmp_path: Path) -> Path:
    journal = Journal.create("s1", dir=tmp_path)
    for event in _session_events():
        journal.append(event)
    journal.close()
    return journal.path


def test_torn_tail_at_every_byte_offset_still_loads(tmp_path: Path) -> None:
    full = _write_session(tmp_path).read_bytes()
    boundaries = {i + 1 for i, b in enumerate(full) if b == ord("\n")}
    cut = tmp_path / "cut.jsonl"
    for offset in range(len(full) + 1):
        cut.write_bytes(full[:offset])
        loaded = load(cut)
        complete = full[:offset].count(b"\n") - 1  # event lines wholly present
        if offset in boundaries:
            assert not loaded.torn_tail, offset
            assert len(loaded.events) == max(complete, 0)
        else:
            assert loaded.torn_tail or loaded.problems, offset
            # A cut right before a newline leaves a whole event: it is kept, not lost.
            assert len(loaded.events) in (max(complete, 0), max(complete, 0) + 1), offset
        if loaded.torn_tail:
            assert any("cut off" in p for p in loaded.problems)


def test_resume_cuts_the_torn_line_and_keeps_it_beside(tmp_path: Path) -> None:
    full = _write_session(tmp_path).read_bytes()
    path = tmp_path / "torn.jsonl"
    path.write_bytes(full[:-20])
    before = load(path)
    assert before.torn_tail
    journal = Journal.open_existing(path)
    journal.append(ev.SessionResumed(operator="me@host", torn_tail=True))
    journal.close()
    after = load(path)
    assert not after.torn_tail and after.problems == []
    assert after.events[:-1] == before.events
    assert isinstance(after.events[-1], ev.SessionResumed)
    assert Path(f"{path}.torn").read_bytes() == full[full[:-20].rfind(b"\n") + 1 : -20]


def test_resume_adds_a_missing_final_newline_and_keeps_the_event(tmp_path: Path) -> None:
    full = _write_session(tmp_path).read_bytes()
    path = tmp_path / "nonl.jsonl"
    path.write_bytes(full[:-1])
    journal = Journal.open_existing(path)
    journal.append(ev.NoteAdded(text="after"))
    journal.close()
    loaded = load(path)
    assert loaded.problems == []
    assert [e.kind for e in loaded.events][-2:] == ["session_finished", "note_added"]


def test_foreign_and_unreadable_files_are_clear_errors(tmp_path: Path) -> None:
    foreign = tmp_path / "notes.jsonl"
    foreign.write_text('{"hello": "world"}\n')
    with pytest.raises(JournalError, match=r"notes\.jsonl:1: not a runbook-tui session journal"):
        load(foreign)
    text = tmp_path / "readme.jsonl"
    text.write_text("just text")
    with pytest.raises(JournalError, match="not a runbook-tui session journal"):
        load(text)
    with pytest.raises(JournalError, match="no such session journal"):
        load(tmp_path / "missing.jsonl")
    newer = tmp_path / "newer.jsonl"
    newer.write_text('{"schema": 99, "app": "runbook-tui", "version": "9.0", "session_id": "x"}\n')
    with pytest.raises(JournalError, match="upgrade runbook-tui"):
        load(newer)


def test_a_corrupt_middle_line_is_reported_not_fatal(tmp_path: Path) -> None:
    path = _write_session(tmp_path)
    lines = path.read_bytes().split(b"\n")
    lines[3] = b'{"kind": "from_the_future", "at": "2020-01-01T00:00:00Z"}'
    path.write_bytes(b"\n".join(lines))
    loaded = load(path)
    assert not loaded.torn_tail
    assert len(loaded.events) == len(_session_events()) - 1
    assert any(":4: unreadable event" in p for p in loaded.problems)
