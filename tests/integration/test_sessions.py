"""Finding and summarising sessions, and the ``sessions`` command, against real journal files."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.journals import T0, JournalWriter, rich_session, started
from helpers.resume import finished_session

from runbook_tui import locations
from runbook_tui.core import events as ev
from runbook_tui.core.journal import load
from runbook_tui.core.report.timeline import build_report
from runbook_tui.core.sessions import (
    SessionNotFound,
    find_session,
    latest_unfinished,
    list_sessions,
    summarise,
    to_json,
)


def _session(folder: Path, sid: str, at: float, outcome: str | None, **kw: object) -> Path:
    w = JournalWriter(folder / f"{sid}.jsonl", sid)
    w.add(started(sid, at=at, **kw))
    w.add(ev.StepStarted(at=at + 1, step_id="a", title="A", step_kind="shell", phase="step"))
    w.add(ev.StepFinished(at=at + 3, step_id="a", status="passed", duration=2.0))
    if outcome:
        w.add(ev.SessionFinished(at=at + 4, outcome=outcome, duration=4.0))
    return w.path


@pytest.fixture
def folder() -> Path:
    return locations.sessions_dir()


def test_list_newest_first_with_every_field(folder: Path) -> None:
    _session(folder, "20261118T100000Z-one-aaaa", T0, "succeeded")
    _session(folder, "20261118T110000Z-two-bbbb", T0 + 3600, None, operator="bob@db-2", mode="live")
    _session(folder, "20261118T090000Z-three-cccc", T0 - 3600, "failed")
    found = list_sessions()
    assert [s.id for s in found] == [
        "20261118T110000Z-two-bbbb",
        "20261118T100000Z-one-aaaa",
        "20261118T090000Z-three-cccc",
    ]
    newest = found[0]
    assert newest.outcome == "unfinished" and newest.finished is None and not newest.is_finished
    assert newest.operator == "bob@db-2" and newest.mode == "live"
    assert newest.duration == 3.0  # up to the last recorded event
    done = found[1]
    assert done.outcome == "succeeded" and done.finished == T0 + 4 and done.duration == 4.0
    assert done.runbook == "connectin" and done.procedure == "app-rollback" and not done.torn
    assert latest_unfinished() == newest


def test_no_folder_means_no_sessions(folder: Path) -> None:
    assert list_sessions() == [] and latest_unfinished() is None


def test_find_by_id_prefix_part_and_path(folder: Path) -> None:
    one = _session(folder, "20261118T100000Z-one-aaaa", T0, "succeeded")
    two = _session(folder, "20261118T110000Z-two-bbbb", T0 + 3600, None)
    assert find_session("20261118T100000Z-one-aaaa") == one
    assert find_session("20261118T11") == two
    assert find_session("bbbb") == two
    assert find_session(str(one)) == one
    with pytest.raises(SessionNotFound, match="matches 2 sessions") as err:
        find_session("2026")
    assert "20261118T100000Z-one-aaaa" in str(err.value) and "20261118T110000Z-two-bbbb" in str(err.value)
    with pytest.raises(SessionNotFound, match=r"(?s)no session 'zzz'.*20261118T110000Z-two-bbbb"):
        find_session("zzz")
    with pytest.raises(SessionNotFound, match="no such session journal"):
        find_session("/no/such/file.jsonl")


def test_summary_reads_only_head_and_tail(tmp_path: Path) -> None:
    # A 4 GB sparse journal: reading it whole would take minutes; the summary takes milliseconds.
    path = tmp_path / "20261118T100000Z-huge-0001.jsonl"
    w = JournalWriter(path, "20261118T100000Z-huge-0001")
    w.add(started("20261118T100000Z-huge-0001"))
    with path.open("r+b") as handle:
        handle.seek(4 * 1024**3)
        handle.write(
            b"\n"
            + json.dumps(ev.to_dict(ev.SessionFinished(at=T0 + 9, outcome="aborted", duration=9.0))).encode()
            + b"\n"
        )
    begin = time.perf_counter()
    summary = summarise(path)
    assert time.perf_counter() - begin < 0.5
    assert summary.outcome == "aborted" and summary.duration == 9.0 and summary.runbook == "connectin"


def test_listing_many_sessions_is_fast(folder: Path) -> None:
    for i in range(300):
        _session(
            folder,
            f"20261118T{i // 60:02d}{i % 60:02d}00Z-rb-{i:04x}",
            T0 + i,
            "succeeded" if i % 2 else None,
        )
    begin = time.perf_counter()
    found = list_sessions()
    took = time.perf_counter() - begin
    assert len(found) == 300 and took < 1.0
    assert found[0].id.endswith(f"{299:04x}")


def test_json_fields(folder: Path) -> None:
    _session(folder, "20261118T100000Z-one-aaaa", T0, None)
    data = to_json(list_sessions()[0])
    for key in ("id", "runbook", "procedure", "mode", "started", "finished", "outcome", "operator"):
        assert key in data
    assert data["finished"] is None and data["outcome"] == "unfinished"
    assert data["started"] == ev.iso_utc(T0)[:19] + "Z"
    assert data["duration_seconds"] == 3.0 and data["path"].endswith("aaaa.jsonl")


def _cli(*args: str, columns: int = 80) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env={"COLUMNS": str(columns)})


def test_sessions_command_table_fits_80_columns_and_filters(folder: Path) -> None:
    _session(
        folder,
        "20261118T100000Z-connectin-aaaa",
        T0,
        "succeeded",
        operator="a.very.long.user@bastion.example.net",
    )
    _session(
        folder, "20261118T110000Z-a-much-longer-runbook-identifier-bbbb", T0 + 60, None, procedure_id="x" * 40
    )
    out = _cli("sessions")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 3 and all(len(line) <= 80 for line in lines)
    assert lines[1].startswith("20261118T110000Z-") and "unfinished" in lines[1]
    assert "succeeded" in lines[2]
    filtered = _cli("sessions", "SUCCEEDED")
    assert len(filtered.stdout.splitlines()) == 2 and "aaaa" in filtered.stdout
    as_json = json.loads(_cli("sessions", "example.net", "--json").stdout)
    assert [s["id"] for s in as_json] == ["20261118T100000Z-connectin-aaaa"]
    assert _cli("sessions", "nothing-like-this").stdout.strip() == "No sessions match."


def _check_every_truncation(source: Path, tmp_path: Path) -> None:
    data = source.read_bytes()
    full = build_report(source)
    full_rows = [(r.kind, r.text) for r in full.timeline]
    folder = tmp_path / "cut"
    folder.mkdir()
    path = folder / source.name
    for offset in range(len(data) + 1):
        chunk = data[:offset]
        path.write_bytes(chunk)
        fragment = chunk[chunk.rfind(b"\n") + 1 :]
        whole_line = offset < len(data) and data[offset : offset + 1] == b"\n"
        # Torn: cut inside a line; or before the header's newline (journal.load's rule too).
        torn = b"\n" not in chunk or (bool(fragment) and not whole_line)
        summary = summarise(path)
        report = build_report(path)
        assert summary.torn == torn, offset
        assert report.torn_tail == torn, offset
        assert any("torn" in p for p in report.problems) == torn, offset
        rows = [(r.kind, r.text) for r in report.timeline]
        assert rows == full_rows[: len(rows)], offset
        if offset and not torn:
            # Where journal.load (the engine's reader, used by resume) sees a torn tail, so do we.
            assert load(path).torn_tail is False, offset
    assert rows == full_rows and summary.outcome == full.outcome != "unfinished"


@pytest.mark.slow
def test_every_truncation_of_a_written_journal_still_loads(tmp_path: Path) -> None:
    _check_every_truncation(rich_session(tmp_path / "full", lines=2), tmp_path)


@pytest.mark.slow
def test_every_truncation_of_a_real_session_still_loads(tmp_path: Path) -> None:
    source = finished_session(tmp_path / "work")
    kinds = [e.kind for e in load(source).events]
    assert kinds[0] == "session_started" and kinds[-1] == "session_finished" and "output" in kinds
    _check_every_truncation(source, tmp_path)
