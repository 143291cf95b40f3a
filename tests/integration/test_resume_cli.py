"""``runbook-tui resume``: real sessions run by the real engine, killed with SIGKILL, then resumed."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.cli import run_cli
from helpers.journals import T0
from helpers.resume import TINY, damage_line, killed_session, unfinished_session, write_tiny_runbook

from runbook_tui import locations
from runbook_tui.core import events as ev
from runbook_tui.core.journal import load
from runbook_tui.core.report.timeline import build_report


def _kinds(path: Path) -> list[tuple[str, str | None, int | None]]:
    return [(e.kind, getattr(e, "step_id", None), getattr(e, "attempt", None)) for e in load(path).events]


def test_sigkill_mid_step_then_resume_keeps_every_completed_step(tmp_path: Path) -> None:
    work = tmp_path / "work"
    journal = killed_session(work)
    before = journal.read_bytes()
    assert build_report(journal).outcome == "unfinished"
    (work / "resumed.flag").touch()
    result = run_cli("resume", "--plain", "--yes", cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Resuming {journal.stem}" in result.stderr
    after = journal.read_bytes()
    assert after.startswith(
        before.rstrip(b"\n").rsplit(b"\n", 1)[0]
    )  # nothing recorded before the kill is lost
    kinds = _kinds(journal)
    assert kinds.count(("step_started", "one", 1)) == 1  # the completed step was not run again
    assert ("step_interrupted", "two", 1) in kinds
    assert ("step_started", "two", 2) in kinds and ("step_started", "three", 1) in kinds
    assert kinds[-1][0] == "session_finished"
    assert (work / "marks.txt").read_text().split() == ["one", "two", "two", "three"]
    report = build_report(journal)
    assert report.outcome == "succeeded"
    assert [(a.step_id, a.attempt, a.status) for a in report.attempts] == [
        ("one", 1, "passed"),
        ("two", 1, "interrupted"),
        ("two", 2, "passed"),
        ("three", 1, "passed"),
    ]
    assert report.attempts[1].output_tail == ("two-started",)
    # The clock continued from the original start.
    assert report.started_at == load(journal).events[0].at
    assert (
        report.metrics.duration is not None
        and report.metrics.duration >= report.attempts[2].started_at - report.started_at
    )


def test_resume_picks_the_latest_unfinished_session(tmp_path: Path) -> None:
    work = tmp_path / "work"
    runbook = write_tiny_runbook(work)
    (work / "resumed.flag").touch()
    folder = locations.sessions_dir()
    older = unfinished_session(folder, "20261118T100000Z-tiny-0001", T0, runbook, work)
    newer = unfinished_session(folder, "20261118T110000Z-tiny-0002", T0 + 3600, runbook, work)
    done = unfinished_session(folder, "20261118T120000Z-tiny-0003", T0 + 7200, runbook, work)
    with done.open("a", encoding="utf-8") as handle:
        handle.write(
            json.dumps(ev.to_dict(ev.SessionFinished(at=T0 + 7300, outcome="failed", duration=100))) + "\n"
        )
    result = run_cli("resume", "--plain", "--yes", cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _kinds(newer)[-1][0] == "session_finished"
    assert _kinds(older)[-1] == ("step_finished", "one", 1)  # untouched
    assert [k for k in _kinds(newer) if k[0] == "step_started"] == [
        ("step_started", "one", 1),
        ("step_started", "two", 1),
        ("step_started", "three", 1),
    ]
    # Named explicitly, the older one resumes too; a finished one is refused with a clear message.
    assert run_cli("resume", "0001", "--plain", "--yes", cwd=work).returncode == 0
    refused = run_cli("resume", "0003", "--plain", "--yes", cwd=work)
    assert refused.returncode == 2 and "already finished (failed)" in refused.stderr
    assert "runbook-tui report 20261118T120000Z-tiny-0003" in refused.stderr
    none_left = run_cli("resume", "--plain", "--yes", cwd=work)
    assert none_left.returncode == 2 and "no unfinished session to resume" in none_left.stderr
    assert "Traceback" not in refused.stderr + none_left.stderr


def test_resume_warns_when_the_runbook_changed(tmp_path: Path) -> None:
    work = tmp_path / "work"
    runbook = write_tiny_runbook(work)
    (work / "resumed.flag").touch()
    unfinished_session(locations.sessions_dir(), "20261118T100000Z-tiny-0001", T0, runbook, work)
    runbook.write_text(TINY.replace("Last step", "Last step, renamed"), encoding="utf-8")
    result = run_cli("resume", "--plain", "--yes", cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning:" in result.stderr and "changed since the session started" in result.stderr


def test_resume_of_a_gone_runbook_says_what_to_do(tmp_path: Path) -> None:
    work = tmp_path / "work"
    runbook = write_tiny_runbook(work)
    unfinished_session(locations.sessions_dir(), "20261118T100000Z-tiny-0001", T0, runbook, work)
    runbook.unlink()
    result = run_cli("resume", "--plain", "--yes", cwd=work)
    assert result.returncode == 2
    assert "the runbook 'tiny' of session 20261118T100000Z-tiny-0001 cannot be found" in result.stderr
    assert "Traceback" not in result.stderr


# --- a damaged line before the end ---------------------------------------------------


def test_resume_refuses_a_damaged_middle_line_until_it_is_accepted(tmp_path: Path) -> None:
    work = tmp_path / "work"
    journal = killed_session(work)
    number = damage_line(journal, "step_finished", "one")  # step one ran; its end is unreadable
    damaged = journal.read_bytes()
    (work / "resumed.flag").touch()

    refused = run_cli("resume", "--plain", "--yes", cwd=work)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr
    assert f"{journal}:{number}: line {number} cannot be read" in refused.stderr
    assert "step 'one'" in refused.stderr
    assert f"runbook-tui resume {journal.stem} --plain --accept-damaged" in refused.stderr
    assert journal.read_bytes() == damaged  # nothing written, nothing run
    assert (work / "marks.txt").read_text().split() == ["one", "two"]

    # Accepted, without --yes and with no terminal: recorded, and step one is asked about, not re-run.
    accepted = run_cli("resume", "--plain", "--accept-damaged", cwd=work)
    assert accepted.returncode == 1, accepted.stdout + accepted.stderr
    assert f"resumed past damaged journal line(s) {number} (step one)" in accepted.stdout
    assert "step one (First step) was interrupted" in accepted.stdout
    assert (work / "marks.txt").read_text().split() == ["one", "two"]
    events = load(journal).events
    accepts = [e for e in events if e.kind == "damaged_line_accepted"]
    assert [(e.line, e.step_id) for e in accepts] == [(number, "one")]  # type: ignore[attr-defined]

    # Accepted once is accepted: the next resume goes on; --yes is the explicit choice to re-run.
    done = run_cli("resume", "--plain", "--yes", cwd=work)
    assert done.returncode == 0, done.stdout + done.stderr
    assert len([e for e in load(journal).events if e.kind == "damaged_line_accepted"]) == 1
    # The report still notes the damaged line.
    report = run_cli("report", journal.stem, cwd=work)
    assert f"line {number}: not a JSON object; skipped" in report.stdout
    assert f"resumed past damaged journal line {number} (step one)" in report.stdout


def test_a_torn_last_line_is_still_resumed_without_asking(tmp_path: Path) -> None:
    work = tmp_path / "work"
    journal = killed_session(work)
    with journal.open("ab") as handle:
        handle.write(b'{"kind":"output","at":"2026-')  # a crash mid-write: torn, not damaged
    (work / "resumed.flag").touch()
    result = run_cli("resume", "--plain", "--yes", cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "damaged" not in result.stdout + result.stderr
