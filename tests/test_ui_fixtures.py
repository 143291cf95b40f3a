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
        (Procedure("flag", "Disable the flag", (shell("off", "Turn it off", "echo off"),),
                   window=parse_window("<1 minute")),),
        tags=("flags",),
    )
    broken = Problem(Location("/tmp/broken.yaml", 7, 3), "unknown key 'stesp' (did you mean 'steps'?)")
    return [
        Entry("sample", good.title, Path("/tmp/sample.yaml"), "bundled", good),
        Entry("payments", other.title, Path("/tmp/payments.yaml"), "configured", other),
        Entry("broken", "broken", Path("/tmp/broken.yaml"), "configured", None, [broken]),
    ]
