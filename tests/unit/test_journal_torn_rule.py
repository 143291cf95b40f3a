"""One rule for a journal's last line without its newline, whoever reads it.

A crash mid-write leaves a cut-off last line: every reader drops it and says the journal
was torn. A whole event that lacks only its newline is kept by every reader. The loader,
the folder, the record stream (report), the session list and the live tail (follow)
must agree, on a real journal written by ``Journal``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runbook_tui.core import events as ev
from runbook_tui.core.journal import Journal, fold_file, load
from runbook_tui.core.journal.codec import is_torn
from runbook_tui.core.journal.reader import JournalTail
from runbook_tui.core.journal.records import StreamStatus, iter_records
from runbook_tui.core.sessions import summarise

STARTED = ev.StepStarted(step_id="a", title="A", phase="steps", step_kind="shell", at=1.0)
NOTE = ev.NoteAdded(text="last words", at=3.0)


def _journal(tmp_path: Path, last: bytes) -> Path:
    """A real journal with a step and some output, then ``last`` appended as is."""
    journal = Journal.create("torn-rule", dir=tmp_path)
    journal.append(STARTED)
    journal.append(ev.OutputLine(step_id="a", seq=1, stream="stdout", text="héllo", at=2.0))
    journal.close()
    with journal.path.open("ab") as handle:
        handle.write(last)
    return journal.path


def _note_line() -> bytes:
    return json.dumps(ev.to_dict(NOTE), ensure_ascii=False, separators=(",", ":")).encode()


def _kinds_everywhere(path: Path) -> dict[str, tuple[list[str], bool]]:
    """What each reader makes of the journal: the kinds of the events it read, and 'torn'.

    ``fold_file`` and the session list keep no event list: their kinds are the notes folded
    (``fold_file``) and the records the list saw last (``sessions``).
    """
    loaded = load(path)
    status = StreamStatus()
    records = [str(r["kind"]) for r in iter_records(path, status)]
    with JournalTail(path) as tail:
        followed = [e.kind for e in tail.read()]
        # The tail never decodes a line before its newline; were the file to end here, it
        # judges the waiting line as the others do.
        tail_torn = tail.torn
    return {
        "load": ([e.kind for e in loaded.events], loaded.torn_tail),
        "records": (records, status.torn_tail),
        "follow": (followed, tail_torn),
        "fold_file": (_folded_notes(path), fold_file(path).torn_tail),
        "sessions": ([], summarise(path).torn),
    }


def _folded_notes(path: Path) -> list[str]:
    return [note.text for note in fold_file(path).state.notes]


@pytest.mark.parametrize("cut", [1, 10, -2, -1])
def test_a_cut_off_last_line_is_dropped_and_torn_for_every_reader(tmp_path: Path, cut: int) -> None:
    path = _journal(tmp_path, _note_line()[:cut])
    seen = _kinds_everywhere(path)
    before = ["step_started", "output"]
    assert seen["load"] == (before, True)
    assert seen["records"] == (before, True)
    assert seen["fold_file"] == ([], True)
    assert seen["sessions"] == ([], True)
    followed, waiting_is_torn = seen["follow"]
    assert followed == before and waiting_is_torn is True


def test_a_whole_last_event_without_its_newline_is_kept_by_every_reader(tmp_path: Path) -> None:
    path = _journal(tmp_path, _note_line())
    seen = _kinds_everywhere(path)
    everything = ["step_started", "output", "note_added"]
    assert seen["load"] == (everything, False)
    assert seen["records"] == (everything, False)
    assert seen["fold_file"] == (["last words"], False)
    assert seen["sessions"] == ([], False)
    followed, waiting_is_torn = seen["follow"]
    # Follow reads whole lines only: the event waits for its newline, and it is not torn.
    assert followed == everything[:2] and waiting_is_torn is False


def test_resume_cuts_exactly_the_line_the_readers_drop(tmp_path: Path) -> None:
    whole = _journal(tmp_path / "whole", b"")
    size = whole.stat().st_size
    torn = _journal(tmp_path / "torn", _note_line()[:-1])
    assert load(torn).torn_tail
    Journal.open_existing(torn).close()
    assert torn.stat().st_size == size
    assert Path(f"{torn}.torn").read_bytes() == _note_line()[:-1]
    assert not load(torn).torn_tail


def test_the_rule_itself() -> None:
    line = _note_line()
    assert not is_torn(line)
    assert is_torn(line[:-1])
    assert is_torn(b"")
    assert is_torn(b"[1, 2]")  # not an object: no event
    # A newer version's kind is a whole event we skip, not a cut-off line.
    assert not is_torn(b'{"kind":"from_the_future","at":"2026-01-01T00:00:00.000000Z"}')
