"""Impact start (issue 17): given on the command line, corrected later, what the metrics run from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers.cli import run_cli

from runbook_tui.core import events as ev
from runbook_tui.core.errors import UsageError
from runbook_tui.core.evidence import parse_impact_time, parse_roles
from runbook_tui.core.report.timeline import build_report_from

MILESTONED = """\
runbook: 1
id: marks
title: Marks
procedures:
  - id: roll
    title: Roll back
    recovery_window: 1 minute
    steps:
      - id: one
        title: Stop the bleeding
        kind: shell
        command: echo mitigated
        milestone: mitigated
      - id: two
        title: Fix it
        kind: shell
        command: echo resolved
        milestone: resolved
"""


NOW = 1_800_000_000.0


@pytest.mark.parametrize(
    ("text", "ago"),
    [
        ("-25m", 1500),
        ("25 minutes ago", 1500),
        ("-1h30m", 5400),
        ("2 hours ago", 7200),
        ("90s ago", 90),
        ("now", 0),
    ],
)
def test_relative_times(text: str, ago: float) -> None:
    assert parse_impact_time(text, NOW) == NOW - ago


def test_iso_times() -> None:
    # 1_800_000_000 is 2027-01-15T08:00:00Z
    assert parse_impact_time("2027-01-15T07:50:00Z", NOW) == NOW - 600
    assert parse_impact_time("2027-01-15T09:50:00+02:00", NOW) == NOW - 600


@pytest.mark.parametrize("text", ["", "yesterday-ish", "-25 parsecs", "in 5 minutes", "2999-01-01T00:00:00Z"])
def test_bad_times_are_refused_with_the_forms(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_impact_time(text, NOW)
    assert "--impact-started" in str(info.value)


def test_roles_take_short_names() -> None:
    assert parse_roles(["ic=alice", "ops=bob", "comms=carol"]) == {
        "incident_commander": "alice",
        "operator": "bob",
        "communications": "carol",
    }
    with pytest.raises(UsageError):
        parse_roles(["boss=alice"])


def test_run_with_impact_ten_minutes_ago_measures_from_it(tmp_path: Path) -> None:
    book = tmp_path / "marks.yaml"
    book.write_text(MILESTONED)
    done = run_cli(
        "run",
        str(book),
        "roll",
        "--plain",
        "--yes",
        "--impact-started",
        "-10m",
        "--workdir",
        str(tmp_path),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    session = next(line for line in done.stdout.splitlines() if "journal" in line).split()[-1]
    report = run_cli("report", session, "--format", "json", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    metrics = json.loads(report.stdout)["metrics"]
    assert metrics["impact_source"] == "recorded"
    assert 595 <= metrics["time_to_mitigate_seconds"] <= 660
    assert 595 <= metrics["time_to_resolve_seconds"] <= 660
    # The recovery window (1 minute) still runs from the session's start: no breach.
    assert "breached" not in done.stdout


def test_bad_impact_time_exits_2_with_a_message(tmp_path: Path) -> None:
    book = tmp_path / "marks.yaml"
    book.write_text(MILESTONED)
    done = run_cli(
        "run", str(book), "roll", "--plain", "--yes", "--impact-started", "last tuesday", cwd=tmp_path
    )
    assert done.returncode == 2
    assert "--impact-started 'last tuesday'" in done.stderr
    assert "Traceback" not in done.stderr


def _started(impact: float | None = None) -> ev.SessionStarted:
    return ev.SessionStarted(
        session_id="s",
        runbook_id="r",
        runbook_title="R",
        runbook_path="",
        runbook_sha256="",
        procedure_id="p",
        procedure_title="P",
        mode="live",
        operator="alice@host",
        app_version="0",
        impact_started_at=impact,
        at=NOW,
    )


def test_a_later_correction_wins_and_out_of_order_milestones_are_flagged() -> None:
    events = [
        _started(),
        ev.ImpactStartedSet(impact_started_at=NOW - 300, source="alert time", by="alice", at=NOW + 5),
        ev.MilestoneReached(milestone="resolved", at=NOW + 60),
        ev.MilestoneReached(milestone="mitigated", at=NOW + 120),
        ev.SessionFinished(outcome="succeeded", duration=130, at=NOW + 130),
    ]
    report = build_report_from(ev.to_dict(e) for e in events)
    assert report.metrics.impact_source == "recorded"
    assert report.metrics.time_to["resolved"] == pytest.approx(360)
    assert report.metrics.time_to["mitigated"] == pytest.approx(420)
    assert any("resolved" in p and "before mitigated" in p for p in report.milestone_problems)
    assert any(r.category == "impact" for r in report.timeline)


@pytest.mark.parametrize("command", ["open", "drill"])
def test_open_and_drill_refuse_a_bad_time_before_anything_starts(tmp_path: Path, command: str) -> None:
    book = tmp_path / "marks.yaml"
    book.write_text(MILESTONED)
    done = run_cli(command, str(book), "roll", "--impact-started", "noonish", cwd=tmp_path)
    assert done.returncode == 2
    assert "--impact-started 'noonish'" in done.stderr and "Traceback" not in done.stderr
