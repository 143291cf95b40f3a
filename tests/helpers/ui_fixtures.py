"""Shared builders for the UI tests: small runbooks, library entries, a fixed clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from runbook_tui.core.durations import parse_window
from runbook_tui.core.errors import Location, Problem
from runbook_tui.core.model import (
    AlertThreshold,
    DecisionMatrix,
    DecisionRow,
    EscalationLevel,
    Procedure,
    Role,
    Runbook,
    ShellSpec,
    Signal,
    Step,
    StepKind,
)

FIXED_NOW = 1_780_000_000.0  # a fixed instant, so nothing ticks in snapshots


def fixed_clock() -> float:
    """The clock used by snapshot tests."""
    return FIXED_NOW


@dataclass(frozen=True)
class Entry:
    """Shaped like core.library.RunbookEntry."""

    id: str
    title: str
    path: Path
    source: str
    runbook: Runbook | None
    problems: list[Problem] = field(default_factory=list)


def shell(step_id: str, title: str, command: str, **kw: object) -> Step:
    """A shell step."""
    return Step(step_id, title, StepKind.SHELL, ShellSpec(command), **kw)  # type: ignore[arg-type]


def sample_runbook(signal_url: str | None = None) -> Runbook:
    """A small runbook with a decision matrix, two procedures and reference sections."""
    app = Procedure(
        "app-rollback",
        "Application Rollback (Docker)",
        prechecks=(shell("check-disk", "Check disk space", "df -h ."),),
        steps=(
            shell("stop", "Stop the api service", "echo stopping api"),
            shell("start", "Start previous version", "echo starting v1"),
        ),
        verification=(shell("health", "Verify health", "echo ok"),),
        window=parse_window("< 5 minutes"),
        when="A bad release of the API image.",
    )
    db = Procedure(
        "db-rollback",
        "Database Migration Rollback",
        steps=(shell("migrate", "Roll back the last migration", "echo down"),),
        window=parse_window("10-30 minutes"),
    )
    rows = (
        DecisionRow(
            "health-503",
            "Health check",
            "Roll back the application",
            procedure="app-rollback",
            severity="High",
            threshold="/health returns 503",
            deadline=parse_window("10 min"),
            signal=Signal(signal_url, 503) if signal_url else None,
        ),
        DecisionRow(
            "migration-error",
            "Migration failure",
            "Roll back the migration [DBA on call]",
            procedure="db-rollback",
            severity="Critical",
            threshold="any",
        ),
        DecisionRow("slow", "Slow pages", "Watch, then decide", severity="Low", threshold="p95 > 2s"),
    )
    return Runbook(
        "sample",
        "Sample Service Rollback",
        (app, db),
        path="/tmp/sample.yaml",
        description="Roll back the sample service within the SLA window. Contact [NAME] first.",
        decision_matrix=DecisionMatrix(rows),
        roles=(Role("Lead Engineer", "Makes the rollback decision"),),
        contacts=(Role("Lead Engineer", name="[NAME]", contact="[CONTACT]"),),
        escalation=(EscalationLevel(1, "On-call engineer"), EscalationLevel(2, "Team lead")),
        alert_thresholds=(AlertThreshold("API Error Rate", ">1%", ">5%", "Page on-call"),),
    )


def sample_entries() -> list[Entry]:
    """Two good runbooks and a broken one."""
    good = sample_runbook()
    other = Runbook(
        "payments",
        "Payments Feature Flag Rollback",
        (
            Procedure(
                "flag",
                "Disable the flag",
                (shell("off", "Turn it off", "echo off"),),
                window=parse_window("<1 minute"),
            ),
        ),
        tags=("flags",),
    )
    broken = Problem(Location("/tmp/broken.yaml", 7, 3), "unknown key 'stesp' (did you mean 'steps'?)")
    return [
        Entry("sample", good.title, Path("/tmp/sample.yaml"), "bundled", good),
        Entry("payments", other.title, Path("/tmp/payments.yaml"), "configured", other),
        Entry("broken", "broken", Path("/tmp/broken.yaml"), "configured", None, [broken]),
    ]


RUN_YAML = """\
runbook: 1
id: ui-drill
title: UI Test Rollback
description: A small runbook the UI tests run for real.
parameters:
  - name: tag
    description: The image tag to roll back to
    pattern: '^v[0-9]+\\.[0-9]+\\.[0-9]+$'
    example: v1.2.3
decision_matrix:
  rows:
    - id: slow
      issue: Slow pages
      action: Watch, then decide
    - id: health-503
      issue: Health check
      threshold: /health returns 503
      action: Roll back the app
      procedure: app
      deadline: 10 min
      signal:
        url: {health_url}
        expect_status: 503
procedures:
  - id: app
    title: App rollback
    recovery_window: < 5 minutes
    prechecks:
      - id: disk
        title: Check the disk
        kind: shell
        command: echo disk ok
    steps:
      - id: announce
        title: Announce the rollback
        kind: shell
        command: printf 'rolling back to %s\\n' {{{{tag}}}}
      - id: features
        title: Drop the risky feature
        kind: cargo_features
        file: Cargo.toml
        remove: [risky]
      - id: wipe
        title: Wipe the cache
        kind: shell
        command: echo wiped
        destructive: true
        confirm: Deletes the cache directory
    verification:
      - id: health
        title: Verify health
        kind: http
        url: {ok_url}
        expect_status: 200
  - id: slow
    title: Slow procedure
    recovery_window: 1m
    steps:
      - id: sleep
        title: Sleep a long time
        kind: shell
        command: sleep 30
      - id: after
        title: After the sleep
        kind: shell
        command: echo after
  - id: watching
    title: Watch procedure
    steps:
      - id: watch
        title: Watch the logs
        kind: watch
        command: for i in 1 2 3 4 5 6 7 8; do echo tick $i; sleep 0.25; done
        duration: 3s
      - id: meanwhile
        title: Meanwhile
        kind: shell
        command: echo meanwhile
  - id: flood
    title: Flood procedure
    steps:
      - id: flood
        title: Print 200k lines
        kind: shell
        command: seq 1 200000
"""

CARGO_TOML = """\
[package]
name = "demo"
version = "0.1.0"

[features]
default = ["risky", "safe"]  # keep this comment
risky = []
safe = []
"""


def write_run_runbook(folder: Path, health_url: str, ok_url: str) -> Path:
    """The runnable test runbook (and a Cargo.toml beside it) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ui-drill.yaml"
    path.write_text(RUN_YAML.format(health_url=health_url, ok_url=ok_url))
    (folder / "Cargo.toml").write_text(CARGO_TOML)
    return path


def entries_in(folder: Path) -> list[Entry]:
    """Library entries for every YAML runbook in ``folder`` (loaded by the real loader)."""
    from runbook_tui.core.loader import try_load

    out = []
    for path in sorted(folder.glob("*.yaml")):
        result = try_load(path)
        rb = result.runbook
        out.append(
            Entry(
                rb.id if rb else path.stem,
                rb.title if rb else path.stem,
                path,
                "configured",
                rb,
                list(result.problems),
            )
        )
    return out
