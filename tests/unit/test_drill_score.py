"""The drill score is a fold over a session's events: windows, skips, failures, retries, confirmations."""

from __future__ import annotations

from runbook_tui.core.drills import Fault, format_score, score
from runbook_tui.core.events import (
    ConfirmationDeclined,
    ConfirmationGiven,
    DecisionMade,
    Event,
    MilestoneReached,
    SessionFinished,
    SessionStarted,
    StepFinished,
    StepSkipped,
)

T0 = 1_800_000_000.0


def started(target: float | None = 300.0) -> SessionStarted:
    return SessionStarted(
        session_id="s1",
        runbook_id="connectin",
        runbook_title="ConnectIn",
        runbook_path="connectin.yaml",
        runbook_sha256="0" * 64,
        procedure_id="app-rollback",
        procedure_title="Application Rollback",
        mode="drill",
        operator="me@here",
        app_version="0.1.0",
        target_seconds=target,
        window_text="< 5 minutes",
        at=T0,
    )


def finished(at: float, outcome: str = "succeeded") -> SessionFinished:
    return SessionFinished(outcome=outcome, duration=at - T0, at=at)


def step(step_id: str, status: str, at: float, attempt: int = 1) -> StepFinished:
    return StepFinished(step_id=step_id, status=status, duration=1.0, attempt=attempt, at=at)


def test_a_clean_run_inside_its_window_scores_100() -> None:
    events: list[Event] = [
        started(),
        ConfirmationGiven(step_id="restart-api", message="m", at=T0 + 10),
        step("restart-api", "passed", T0 + 20),
        MilestoneReached(milestone="resolved", step_id="verify-health", at=T0 + 60),
        finished(T0 + 70),
    ]
    result = score(events)
    assert result.points == 100
    assert [(w.scope, w.elapsed, w.met) for w in result.windows] == [("procedure", 60.0, True)]
    assert result.confirmations_given == 1 and result.failed == ()


def test_failures_retries_skips_and_missed_windows_cost_points() -> None:
    fault = Fault(name="health-still-failing", summary="s", fails_step="verify-health")
    events: list[Event] = [
        started(target=60.0),
        DecisionMade(
            row_id="error-rate", issue="Error rate", procedure_id="app-rollback", deadline_seconds=30, at=T0
        ),
        StepSkipped(step_id="list-image-tags", reason="known", at=T0 + 5),
        ConfirmationDeclined(step_id="restart-api", message="m", at=T0 + 6),
        ConfirmationGiven(step_id="restart-api", message="m", at=T0 + 7),
        step("verify-health", "failed", T0 + 50),
        step("verify-health", "passed", T0 + 80, attempt=2),
        step("monitor-logs", "failed", T0 + 90),
        MilestoneReached(milestone="mitigated", at=T0 + 45),
        finished(T0 + 100, outcome="failed"),
    ]
    result = score(events, fault)
    assert result.skipped == (("list-image-tags", "known"),)
    assert result.failed == ("verify-health", "monitor-logs")
    assert result.retried == ("verify-health",)
    assert result.recovered == ("verify-health",)
    assert result.unrecovered == ("monitor-logs",)
    assert [(w.scope, w.met) for w in result.windows] == [("procedure", False), ("error-rate", False)]
    assert result.fault_met
    # 25 window + 10 deadline + 5 skip + 15 unrecovered + 5 declined + 30 not succeeded
    assert result.points == 10
    text = format_score(result)
    assert "MISSED" in text and "health-still-failing at step verify-health: met, recovered" in text


def test_an_unfinished_session_is_scored_to_its_last_event() -> None:
    result = score([started(target=None), step("a", "passed", T0 + 12)])
    assert result.outcome == "unfinished" and result.duration == 12.0 and result.windows == ()
