"""The Markdown report checked against its journal, event by event."""

from __future__ import annotations

import re
from pathlib import Path

from helpers.journals import rich_session
from helpers.paths import REPO_ROOT

from runbook_tui.core import events as ev
from runbook_tui.core.report import markdown
from runbook_tui.core.report.timeline import build_report


def _journal_events(path: Path) -> list[ev.Event]:
    import json

    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return [ev.from_dict(json.loads(line)) for line in lines]


def _section(text: str, heading: str) -> str:
    start = text.index(f"## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def _cells(row: str) -> list[str]:
    """A table row split on unescaped pipes."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def _unescape(cell: str) -> str:
    return cell.replace("\\|", "|").replace("\\\\", "\\")


def test_markdown_matches_the_journal_event_by_event(tmp_path: Path) -> None:
    path = rich_session(tmp_path)
    text = markdown.render(build_report(path))
    events = _journal_events(path)
    summary = _section(text, "Summary")
    steps = _section(text, "Steps")
    step_rows = [_cells(r) for r in steps.splitlines() if r.startswith("| ") and "---" not in r][1:]
    started = [e for e in events if isinstance(e, ev.StepStarted)]
    assert len(step_rows) == len(started)
    finished = {(e.step_id, e.attempt): e for e in events if isinstance(e, ev.StepFinished)}
    for row, event in zip(step_rows, started, strict=True):
        assert row[0] == event.phase and _unescape(row[1]) == f"{event.title} (`{event.step_id}`)"
        assert row[2] == str(event.attempt)
        assert row[3] == finished[(event.step_id, event.attempt)].status
    for event in events:
        if isinstance(event, ev.SessionStarted):
            for value in (
                event.procedure_title,
                event.operator,
                event.runbook_id,
                event.mode,
                event.session_id,
            ):
                assert value in summary
        elif isinstance(event, ev.DecisionMade):
            assert event.issue in summary
        elif isinstance(event, ev.ParameterSet):
            rows = [
                _cells(r)
                for r in _section(text, "Parameters").splitlines()
                if r.startswith(f"| {event.name} ")
            ]
            assert len(rows) == 1
            assert rows[0][1] == ("(secret, redacted)" if event.secret else event.value)
        elif isinstance(event, ev.StepFinished) and event.status == "failed":
            failed = _section(text, "Failed and interrupted steps")
            assert f"### Restart api (`{event.step_id}`, attempt {event.attempt}): failed" in failed
        elif isinstance(event, ev.OutputLine):
            failed = _section(text, "Failed and interrupted steps")
            # Only the last 20 lines of each failed attempt are shown, inside a fence.
            tail = event.step_id == "restart" and int(event.text.split()[3]) >= 30
            assert (f"\n{event.text}\n" in failed) == tail
        elif isinstance(event, ev.StepSkipped):
            assert f"(`{event.step_id}`)" in _section(text, "Skipped steps")
            assert event.reason in _section(text, "Skipped steps")
        elif isinstance(event, ev.FileEdited):
            assert "```diff\n" + event.diff in _section(text, "File edits")
        elif isinstance(event, ev.NoteAdded):
            assert event.text in _section(text, "Notes")
        elif isinstance(event, ev.TemplateFilled):
            assert f"```text\n{event.text}\n```" in _section(text, "Communication templates")
        elif isinstance(event, ev.ChecklistTicked):
            assert f"- [x] {event.checklist_id}: item {event.item + 1}" in _section(
                text, "Post-rollback checklist"
            )
        elif isinstance(event, ev.WindowBreached):
            assert "recovery window (5m00s) exceeded" in summary


def test_timeline_table_has_one_row_per_event_oldest_first(tmp_path: Path) -> None:
    path = rich_session(tmp_path)
    text = markdown.render(build_report(path))
    events = [e for e in _journal_events(path) if not isinstance(e, ev.OutputLine)]
    table = [r for r in _section(text, "Timeline").splitlines() if r.startswith("| ")][1:]
    rows = [_cells(r) for r in table if "---" not in r]
    assert all(len(r) == 5 for r in rows), "a pipe inside a cell was not escaped"
    assert len(rows) == len(events)
    assert [r[0] for r in rows] == sorted(r[0] for r in rows)
    assert [r[0] for r in rows] == [ev.iso_utc(e.at)[:19] + "Z" for e in sorted(events, key=lambda e: e.at)]
    notes = [r for r in rows if r[2] == "note"]
    assert _unescape(notes[0][3]).endswith("Rolled back | users notified")
    offsets = [r[1] for r in rows]
    assert offsets[0] == "+00:00" and offsets[-1] == "+05:40"


def test_fences_survive_backticks_in_output(tmp_path: Path) -> None:
    assert markdown.fence("a ``` b") == "````text\na ``` b\n````"
    assert markdown.cell("a|b\nc") == "a\\|b<br>c"


def test_runbook_templates_and_checklist_when_the_file_is_there(tmp_path: Path) -> None:
    import hashlib

    from helpers.journals import T0, JournalWriter, started

    from runbook_tui.core.report.runbook_context import context_for

    runbook = REPO_ROOT / "runbooks" / "strict-connection-flow.yaml"
    sid = "20261118T100000Z-strict-0001"
    w = JournalWriter(tmp_path / f"{sid}.jsonl", sid)
    sha = hashlib.sha256(runbook.read_bytes()).hexdigest()
    w.add(
        started(sid, runbook_path=str(runbook), runbook_sha256=sha, procedure_title="Feature Flag Rollback")
    )
    w.add(
        ev.DecisionMade(
            at=T0 + 1,
            row_id="runtime-validation-error",
            issue="Runtime Validation Error",
            procedure_id="feature-flag-toggle",
        )
    )
    w.add(ev.ChecklistTicked(at=T0 + 2, checklist_id="post-rollback-tasks", item=1))
    report = build_report(w.path)
    context = context_for(report)
    assert not context.runbook_changed
    text = markdown.render(report, context)
    templates = _section(text, "Communication templates")
    assert "Rollback Type: Feature Flag Rollback" in templates
    assert "Initiated By: alice@bastion-1" in templates
    assert "Reason: Runtime Validation Error" in templates
    assert "Impact: Some user errors" in templates
    assert "Current Status: In progress" in templates
    checklist = _section(text, "Post-rollback checklist")
    assert "- [ ] Collect logs and error reports" in checklist
    assert "- [x] Identify the source of the issue" in checklist
    changed = build_report(JournalWriter(tmp_path / "b.jsonl", "b").path)
    assert context_for(changed).templates == ()  # no runbook recorded: the journal alone
