"""Action items, roles and handoffs (issue 17): ``note`` on a finished and on a running session,
a resume by someone else, and all three report formats showing them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.cli import run_cli, start_cli, wait_for_output
from helpers.journals import T0
from helpers.resume import finished_session, unfinished_session, write_tiny_runbook

from runbook_tui import locations
from runbook_tui.core.inbox import inbox_dir
from runbook_tui.core.journal import load

WAITER = """\
runbook: 1
id: waiter
title: Waiter
procedures:
  - id: roll
    title: Wait for a flag
    steps:
      - id: wait
        title: Wait for the flag
        kind: shell
        command: |
          echo waiting
          while [ ! -f go.flag ]; do sleep 0.05; done
          echo done
"""


def test_note_on_a_finished_session_appends_and_every_format_shows_it(tmp_path: Path) -> None:
    work = tmp_path / "work"
    journal = finished_session(work)
    done = run_cli(
        "note", journal.stem, "--action", "Alert on 503s", "--owner", "bob", "--due", "2027-02-01", cwd=work
    )
    assert done.returncode == 0, done.stderr
    assert "appended to" in done.stdout
    events = load(journal).events
    assert events[-1].kind == "action_item" and events[-2].kind == "session_finished"
    data = json.loads(run_cli("report", journal.stem, "--format", "json", cwd=work).stdout)
    assert data["incident"]["action_items"][0] | {"created_at": None, "created_by": None} == {
        "summary": "Alert on 503s",
        "assignee": "bob",
        "due_date": "2027-02-01",
        "created_at": None,
        "created_by": None,
        "step_id": None,
    }
    markdown = run_cli("report", journal.stem, cwd=work).stdout
    assert "## Action items" in markdown and "| Alert on 503s | bob | 2027-02-01 |" in markdown
    svg = run_cli("report", journal.stem, "--format", "svg", cwd=work).stdout
    assert "Action item (bob, due 2027-02-01): Alert on 503s" in svg


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--action", "x"], "--owner"),
        (["--action", "x", "--owner", "bob", "--due", "soon"], "YYYY-MM-DD"),
        ([], "--action TEXT"),
    ],
)
def test_note_says_what_is_missing(tmp_path: Path, args: list[str], said: str) -> None:
    work = tmp_path / "work"
    journal = finished_session(work)
    done = run_cli("note", journal.stem, *args, cwd=work)
    assert done.returncode == 2 and said in done.stderr and "Traceback" not in done.stderr


def test_note_on_a_running_session_is_journalled_by_that_session(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    book = work / "waiter.yaml"
    book.write_text(WAITER)
    proc = start_cli("run", str(book), "roll", "--plain", "--yes", "--workdir", str(work), cwd=work)
    try:
        journal = wait_for_output("waiting")
        size = journal.stat().st_size
        note = run_cli("note", journal.stem, "--action", "Page faster", "--owner", "carol", cwd=work)
        assert note.returncode == 0, note.stderr
        assert "journalled by the running session" in note.stdout
        assert journal.stat().st_size > size
        (work / "go.flag").touch()
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.wait(timeout=10)
    kinds = [e.kind for e in load(journal).events]
    assert kinds.index("action_item") < kinds.index("session_finished")
    assert kinds.count("action_item") == 1
    assert not inbox_dir(journal).exists()  # given back when the session ended


def test_resume_by_someone_else_is_a_handoff(tmp_path: Path) -> None:
    work = tmp_path / "work"
    runbook = write_tiny_runbook(work)
    (work / "resumed.flag").touch()
    journal = unfinished_session(locations.sessions_dir(), "20261118T100000Z-tiny-0001", T0, runbook, work)
    result = run_cli("resume", journal.stem, "--plain", "--yes", cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    handoffs = [e for e in load(journal).events if e.kind == "handoff"]
    assert len(handoffs) == 1
    assert handoffs[0].from_operator == "alice@bastion-1" and handoffs[0].reason == "resume"
    data = json.loads(run_cli("report", journal.stem, "--format", "json", cwd=work).stdout)
    (handoff,) = data["incident"]["handoffs"]
    assert handoff["from"] == "alice@bastion-1" and "handed over to" in handoff["text"]
    markdown = run_cli("report", journal.stem, cwd=work).stdout
    assert "## Roles and handoffs" in markdown and "alice@bastion-1 handed over to" in markdown
    assert (
        "Handoff: alice@bastion-1 handed over to"
        in run_cli("report", journal.stem, "--format", "svg", cwd=work).stdout
    )


def test_roles_from_the_command_line_reach_the_report(tmp_path: Path) -> None:
    work = tmp_path / "work"
    book = write_tiny_runbook(work)
    (work / "resumed.flag").touch()
    done = run_cli(
        "run",
        str(book),
        "roll",
        "--plain",
        "--yes",
        "--role",
        "ic=alice",
        "--role",
        "comms=carol",
        "--workdir",
        str(work),
        cwd=work,
    )
    assert done.returncode == 0, done.stderr
    (journal,) = locations.sessions_dir().glob("*.jsonl")
    data = json.loads(run_cli("report", journal.stem, "--format", "json", cwd=work).stdout)
    assert data["incident"]["roles"] == [
        {"role": "communications", "assignee": "carol"},
        {"role": "incident_commander", "assignee": "alice"},
    ]
    assert "- **Incident commander:** alice" in run_cli("report", journal.stem, cwd=work).stdout


def test_report_to_a_file_writes_the_chart_beside_it_and_links_it(tmp_path: Path) -> None:
    work = tmp_path / "work"
    journal = finished_session(work)
    out = tmp_path / "out" / "report.md"
    out.parent.mkdir()
    done = run_cli("report", journal.stem, "-o", str(out), cwd=work)
    assert done.returncode == 0, done.stderr
    chart = tmp_path / "out" / "report.timeline.svg"
    assert chart.read_text().startswith("<svg") and "](report.timeline.svg)" in out.read_text()
    printed = run_cli("report", journal.stem, cwd=work).stdout
    assert f"runbook-tui report {journal.stem} --format svg" in printed
