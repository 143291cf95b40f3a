"""``runbook-tui report``: formats, atomic -o, torn journals, missing sessions."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.cli import run_cli
from helpers.journals import rich_session

from runbook_tui import locations


def test_every_format_to_a_file(tmp_path: Path) -> None:
    rich_session(locations.sessions_dir())
    for fmt, check in (
        ("markdown", lambda t: t.startswith("# Post-incident report: Application Rollback (Docker)")),
        ("json", lambda t: json.loads(t)["session"]["id"] == "20261118T100000Z-connectin-ab12"),
        ("svg", lambda t: t.startswith("<svg ")),
    ):
        out = tmp_path / f"report.{fmt}"
        result = run_cli("report", "ab12", "--format", fmt, "-o", str(out))
        assert result.returncode == 0, result.stderr
        assert check(out.read_text(encoding="utf-8")), fmt
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp file left


def test_standard_output_by_default() -> None:
    rich_session(locations.sessions_dir())
    result = run_cli("report", "20261118T100000Z-connectin-ab12")
    assert result.returncode == 0 and "## Timeline" in result.stdout


def test_missing_session_exits_2_with_a_message() -> None:
    result = run_cli("report", "no-such-session")
    assert result.returncode == 2
    assert "no session 'no-such-session'" in result.stderr and "Traceback" not in result.stderr


def test_unwritable_output_leaves_nothing(tmp_path: Path) -> None:
    rich_session(locations.sessions_dir())
    target = tmp_path / "missing-folder" / "r.md"
    result = run_cli("report", "ab12", "-o", str(target))
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert not target.parent.exists()
    existing = tmp_path / "r.md"
    existing.write_text("previous report\n")
    existing.parent.chmod(0o500)
    try:
        result = run_cli("report", "ab12", "-o", str(existing))
    finally:
        existing.parent.chmod(0o700)
    if result.returncode != 0:  # root can write anyway; otherwise the old file must be intact
        assert existing.read_text() == "previous report\n" and "Traceback" not in result.stderr


def test_torn_journal_still_reports(tmp_path: Path) -> None:
    path = rich_session(locations.sessions_dir())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 7])  # cut inside session_finished
    result = run_cli("report", "ab12")
    assert result.returncode == 0
    assert "torn" in result.stderr
    assert "> **Note:** the journal's last line was torn" in result.stdout
    assert "- **Outcome:** unfinished" in result.stdout
    listed = json.loads(run_cli("sessions", "--json").stdout)
    assert listed[0]["torn"] is True and listed[0]["outcome"] == "unfinished"
