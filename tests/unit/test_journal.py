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
    fold_file,
    load,
    new_session_id,
)
from runbook_tui.core.journal.fold import fold


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
    lines[3] = b'{"kind": "note_added", "at": "2020-01-01T00:00:00Z"}'  # a known kind, malformed
    path.write_bytes(b"\n".join(lines))
    loaded = load(path)
    assert not loaded.torn_tail
    assert len(loaded.events) == len(_session_events()) - 1
    assert any(":4: unreadable event" in p for p in loaded.problems)


def _same_as_load_then_fold(path: Path) -> None:
    loaded = load(path)
    streamed = fold_file(path)
    assert streamed.state == fold(loaded.events)
    assert (streamed.header, streamed.torn_tail, streamed.problems) == (
        loaded.header,
        loaded.torn_tail,
        loaded.problems,
    )


@pytest.mark.slow
def test_fold_file_is_load_then_fold_at_every_byte_offset(tmp_path: Path) -> None:
    full = _write_session(tmp_path).read_bytes()
    cut = tmp_path / "cut.jsonl"
    for offset in range(len(full) + 1):
        cut.write_bytes(full[:offset])
        _same_as_load_then_fold(cut)


def _odd(seq: bytes, text: bytes, *, at: bytes = b"2026-01-01T00:00:00.000000Z", step: bytes = b"a") -> bytes:
    """An output line as the journal writes it, but for the parts given."""
    return (
        b'{"kind":"output","at":"' + at + b'","step_id":"' + step + b'","seq":' + seq
        + b',"stream":"stdout","text":"' + text + b'"}'
    )  # fmt: skip


# Output lines the fast path must not take, each read exactly as load reads it.
ODD_OUTPUT_LINES = [
    _odd(b"3", b"month 13", at=b"2026-13-01T00:00:00.000000Z"),
    _odd(b"04", b"04"),
    _odd(b"5", b"\\x"),
    _odd(b"6", b"\xff"),
    _odd(b"7", b"sp").replace(b'"output",', b'"output", '),
    _odd(b"8", b"id", step=b"\\u0061"),
    _odd(b"9", b"short at", at=b"2026-01-01T00:00:00Z"),
    _odd(b"10", b"cr") + b"\r",
    _odd(b"1" + b"0" * 120, b"big"),
    _odd(b"12", b'\\u00e9 \\ud83d\\ude00 \\"'),
    b"   ",
    b"not json",
]


def test_fold_file_reads_odd_output_lines_as_load_does(tmp_path: Path) -> None:
    lines = _write_session(tmp_path).read_bytes().split(b"\n")
    odd = tmp_path / "odd.jsonl"
    odd.write_bytes(b"\n".join([*lines[:5], *ODD_OUTPUT_LINES, *lines[5:]]))
    _same_as_load_then_fold(odd)
    streamed = fold_file(odd)
    assert len(streamed.problems) == 5  # month 13, 04, \x, the byte 0xff, "not json"
    assert [t.text for t in streamed.state.step("a").tail][-4:] == ["cr", "big", 'é 😀 "', "wörld ✓"]


def test_fold_file_refuses_what_load_refuses(tmp_path: Path) -> None:
    foreign = tmp_path / "notes.jsonl"
    foreign.write_text('{"hello": "world"}\n')
    with pytest.raises(JournalError, match=r"notes\.jsonl:1: not a runbook-tui session journal"):
        fold_file(foreign)
    with pytest.raises(JournalError, match="no such session journal"):
        fold_file(tmp_path / "missing.jsonl")
    with pytest.raises(JournalError, match=r"notes\.jsonl:1: not a runbook-tui session journal"):
        Journal.open_existing(foreign)
    with pytest.raises(JournalError, match="no such session journal"):
        Journal.open_existing(tmp_path / "missing.jsonl")


def test_resume_cuts_a_torn_line_longer_than_the_block_it_reads_back(tmp_path: Path) -> None:
    full = _write_session(tmp_path).read_bytes()
    path = tmp_path / "long.jsonl"
    torn = b'{"kind":"note_added","at":"2026-01-01T00:00:00.000000Z","text":"' + b"x" * 200_000
    path.write_bytes(full + torn)
    before = fold_file(path)
    assert before.torn_tail
    Journal.open_existing(path).close()
    assert path.read_bytes() == full
    assert Path(f"{path}.torn").read_bytes() == torn
    assert fold_file(path).state == before.state


def test_resume_keeps_a_long_whole_last_line_that_lacks_its_newline(tmp_path: Path) -> None:
    full = _write_session(tmp_path).read_bytes()
    path = tmp_path / "long.jsonl"
    whole = b'{"kind":"note_added","at":"2026-01-01T00:00:00.000000Z","text":"' + b"y" * 200_000 + b'"}'
    path.write_bytes(full + whole)
    Journal.open_existing(path).close()
    assert path.read_bytes() == full + whole + b"\n"
    assert not Path(f"{path}.torn").exists()
    assert load(path).events[-1] == ev.NoteAdded(
        text="y" * 200_000, at=ev.parse_iso_utc("2026-01-01T00:00:00Z")
    )


# --- damaged lines before the end, and write failures --------------------------------


def _written(tmp_path: Path, events: list[ev.Event]) -> Path:
    with Journal.create("s1", dir=tmp_path) as journal:
        for event in events:
            journal.append(event)
    return journal.path


def test_fold_file_names_damaged_middle_lines_and_their_steps(tmp_path: Path) -> None:
    path = _written(tmp_path, _session_events()[:-1])
    lines = path.read_bytes().split(b"\n")
    # line 4 (StepStarted a): its step_id still legible; line 6 (output of a): garbage, a's by its neighbours
    lines[3] = lines[3].replace(b'"title":"A"', b'"title":\x00\x00')
    lines[5] = b"\x00" * 40
    newer = b'{"kind":"from_a_newer_version","at":"2026-01-01T00:00:00.000000Z"}'  # not damage
    path.write_bytes(b"\n".join([*lines[:-1], newer, b'{"kind":"note_ad']))  # and a torn last line
    folded = fold_file(path)
    assert [(d.number, d.step_id) for d in folded.damaged] == [(4, "a"), (6, "a")]
    assert folded.torn_tail
    assert folded.unaccepted == folded.damaged
    with Journal.open_existing(path) as journal:
        journal.append(ev.DamagedLineAccepted(line=4, step_id="a", operator="me"))
    assert [d.number for d in fold_file(path).unaccepted] == [6]


def test_a_damaged_line_before_any_step_is_named_by_the_next_event(tmp_path: Path) -> None:
    path = _written(tmp_path, _session_events()[:4])
    lines = path.read_bytes().split(b"\n")
    lines[2] = b"{not json"  # the ParameterSet line, before any step
    path.write_bytes(b"\n".join(lines))
    assert [(d.number, d.step_id) for d in fold_file(path).damaged] == [(3, "a")]


def test_a_failed_write_is_raised_with_the_fix_and_every_later_append_fails_the_same(tmp_path: Path) -> None:
    from runbook_tui.core.journal import JournalWriteError

    journal = Journal.create("s1", dir=tmp_path)
    heard: list[JournalWriteError] = []
    journal.on_failure = heard.append
    assert journal._fd is not None
    os.close(journal._fd)
    journal._fd = os.open("/dev/full", os.O_WRONLY)  # a real device that is always full
    with pytest.raises(JournalWriteError, match=r"No space left on device.*Free space.*resume s1"):
        journal.append(_started())
    with pytest.raises(JournalWriteError):
        journal.append(ev.NoteAdded(text="later", author="me"))
    assert len(heard) == 1
    journal.close()  # closes without writing more, and without raising again
    assert journal.closed
