"""The timeline and metrics computed from a journal; also the journal builders other report tests use."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.journals import T0, JournalWriter, rich_session, started

from runbook_tui.core import events as ev
from runbook_tui.core.report.timeline import build_report, format_offset


def test_timeline_is_oldest_first_with_offsets(tmp_path: Path) -> None:
    report = build_report(rich_session(tmp_path))
    times = [r.at for r in report.timeline]
    assert times == sorted(times)
    assert report.timeline[0].category == "session"
    assert report.timeline[0].offset == "+00:00"
    last = report.timeline[-1]
    assert last.kind == "session_finished" and last.offset == "+05:40"
    assert format_offset(3725) == "+62:05"


def test_metrics_measured_from_impact(tmp_path: Path) -> None:
    m = build_report(rich_session(tmp_path)).metrics
    assert m.impact_source == "recorded"
    assert m.time_to["acknowledged"] == 124.0
    assert m.time_to["mitigated"] == 153.0
    assert m.time_to["resolved"] == 432.0
    assert m.time_to["detected"] is None
    assert m.duration == 340.0 and m.target_seconds == 300.0
    assert m.within_target is False and m.over_by == 40.0
    assert [b.scope for b in m.breaches] == ["procedure"]
    assert m.time_to_recover == 432.0


def test_attempts_keep_only_the_output_tail(tmp_path: Path) -> None:
    report = build_report(rich_session(tmp_path))
    restarts = [a for a in report.attempts if a.step_id == "restart"]
    assert [a.attempt for a in restarts] == [1, 2]
    second = restarts[1]
    assert second.status == "failed" and second.exit_code == 3 and second.output_lines == 50
    assert second.output_tail == tuple(f"attempt 2 line {i} | pipe" for i in range(30, 50))
    assert [a.step_id for a in report.failed] == ["restart", "restart"]
    assert report.output_lines == 101


def test_wording_is_blameless_past_tense(tmp_path: Path) -> None:
    report = build_report(rich_session(tmp_path))
    texts = [r.text for r in report.timeline]
    assert "Step “Restart api” failed on attempt 2 after 5s (exit code 3): exit status 3" in texts
    assert "The pre-check “API answers” passed in 1s." in texts
    assert "Step “migrate” was skipped: No schema change in this release" in texts
    assert any(t.startswith("The recovery window of 5m00s was exceeded") for t in texts)
    assert "Parameter token was set to a secret value (redacted) from the prompt." in texts


def test_unfinished_session_marks_running_step(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    w = JournalWriter(path, "s")
    w.add(started("s"))
    w.add(ev.StepStarted(at=T0 + 1, step_id="a", title="A", step_kind="shell", phase="step"))
    w.add(ev.OutputLine(at=T0 + 7, step_id="a", seq=0, stream="stdout", text="half way"))
    report = build_report(path)
    assert report.outcome == "unfinished"
    (attempt,) = report.attempts
    assert attempt.status == "running" and attempt.end_at == T0 + 7
    assert report.metrics.duration == 1.0  # the last non-output event; output is not a clock
    w.add(ev.SessionResumed(at=T0 + 100, operator="bob@laptop"))
    w.add(ev.StepInterrupted(at=T0 + 100, step_id="a"))
    report = build_report(path)
    assert report.attempts[0].status == "interrupted"
    assert report.resumes[0].text == "The session was resumed by bob@laptop."


def test_fast_output_path_agrees_with_parsing_every_line(tmp_path: Path) -> None:
    from runbook_tui.core.journal.records import StreamStatus, iter_records
    from runbook_tui.core.report.timeline import build_report_from

    path = tmp_path / "odd.jsonl"
    w = JournalWriter(path, "odd")
    w.add(started("odd"))
    for sid in ("plain", 'qu"ote', "ünï"):
        w.add(ev.StepStarted(at=T0 + 1, step_id=sid, title=sid, step_kind="shell", phase="step"))
        for i in range(30):
            w.add(ev.OutputLine(at=T0 + 2, step_id=sid, seq=i, stream="stdout", text=f"{sid} {i}"))
        w.add(ev.StepFinished(at=T0 + 3, step_id=sid, status="failed", duration=2.0))
    # The journal itself writes non-ASCII as is (codec.encode); so must the fast path read it.
    with path.open("a", encoding="utf-8") as handle:
        for i in range(3):
            line = {
                "kind": "output",
                "at": ev.iso_utc(T0 + 4),
                "step_id": "ünï",
                "seq": 99,
                "stream": "stdout",
            }
            handle.write(json.dumps({**line, "text": f"late {i}"}, ensure_ascii=False) + "\n")
    fast = build_report(path)
    status = StreamStatus()
    slow = build_report_from(iter_records(path, status), status)
    assert fast.attempts == slow.attempts and fast.output_lines == slow.output_lines == 93
    assert fast.attempts[2].output_tail[-1] == "late 2" and fast.attempts[1].output_lines == 30
