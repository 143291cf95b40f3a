"""The drill score, computed from a session's events alone (so a journal is enough).

Time against each target window (the procedure's recovery window and any decision
deadline), steps skipped, checks that failed and were retried, confirmations, and
whether the injected fault was met and recovered from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..durations import format_seconds
from ..engine.windows import BREACH, level
from ..events import (
    ConfirmationDeclined,
    ConfirmationGiven,
    DecisionMade,
    Event,
    MilestoneReached,
    SessionFinished,
    SessionStarted,
    StepFinished,
    StepMarkedDone,
    StepSkipped,
    StepStatus,
    WindowBreached,
)
from .definition import Fault

# Points taken off a perfect 100; documented in docs/drills.md.
PENALTY_WINDOW_MISSED = 25
PENALTY_DEADLINE_MISSED = 10
PENALTY_SKIPPED = 5
PENALTY_UNRECOVERED = 15
PENALTY_DECLINED = 5
PENALTY_NOT_SUCCEEDED = 30


@dataclass(frozen=True, slots=True)
class WindowResult:
    """Time taken against one target: the procedure's window or a decision row's deadline."""

    scope: str  # "procedure" or a decision row id
    text: str  # the window as the runbook wrote it
    target: float
    elapsed: float  # from the session's start, as every window is timed (core/engine/windows.py)
    breached: bool = False  # the engine recorded a breach of it (the screen showed one)

    @property
    def met(self) -> bool:
        return not self.breached and level(self.elapsed, self.target) != BREACH


@dataclass(frozen=True, slots=True)
class DrillScore:
    """Everything the drill's debrief needs, and a 0-100 summary."""

    session_id: str
    procedure: str
    outcome: str  # succeeded, failed, aborted, or unfinished
    duration: float
    windows: tuple[WindowResult, ...]
    skipped: tuple[tuple[str, str], ...]  # (step id, reason)
    failed: tuple[str, ...]  # steps that failed at least once
    retried: tuple[str, ...]  # steps run more than once
    recovered: tuple[str, ...]  # failed, then passed (or marked done) later
    confirmations_given: int
    confirmations_declined: int
    breaches: int
    fault: str | None = None
    fault_step: str | None = None
    fault_met: bool = False  # the fault's step failed, so the engineer met it
    ticked: tuple[str, ...] = ()  # manual steps ticked by --yes: nobody did them (no points lost)

    @property
    def unrecovered(self) -> tuple[str, ...]:
        return tuple(s for s in self.failed if s not in self.recovered)

    @property
    def points(self) -> int:
        lost = sum(PENALTY_WINDOW_MISSED for w in self.windows if w.scope == "procedure" and not w.met)
        lost += sum(PENALTY_DEADLINE_MISSED for w in self.windows if w.scope != "procedure" and not w.met)
        lost += PENALTY_SKIPPED * len(self.skipped)
        lost += PENALTY_UNRECOVERED * len(self.unrecovered)
        lost += PENALTY_DECLINED * self.confirmations_declined
        if self.outcome != "succeeded":
            lost += PENALTY_NOT_SUCCEEDED
        return max(0, 100 - lost)


def score(events: Iterable[Event], fault: Fault | None = None) -> DrillScore:
    """The score of one session, from its events in order."""
    items = list(events)
    started = next((e for e in items if isinstance(e, SessionStarted)), None)
    if started is None:
        raise ValueError("these events have no session_started: not a session")
    finished = next((e for e in items if isinstance(e, SessionFinished)), None)
    end = finished.at if finished else (items[-1].at if items else started.at)
    attempts: dict[str, list[str]] = {}
    for event in items:
        if isinstance(event, StepFinished):
            attempts.setdefault(event.step_id, []).append(event.status)
        elif isinstance(event, StepMarkedDone):
            attempts.setdefault(event.step_id, []).append(StepStatus.PASSED)
    failed = tuple(s for s, runs in attempts.items() if StepStatus.FAILED in runs)
    recovered = tuple(s for s in failed if _recovered(attempts[s]))
    return DrillScore(
        session_id=started.session_id,
        procedure=started.procedure_id,
        outcome=finished.outcome if finished else "unfinished",
        duration=end - started.at,
        windows=tuple(_windows(items, started, end)),
        skipped=tuple((e.step_id, e.reason) for e in items if isinstance(e, StepSkipped)),
        failed=failed,
        retried=tuple(s for s, runs in attempts.items() if len(runs) > 1),
        recovered=recovered,
        confirmations_given=sum(isinstance(e, ConfirmationGiven) for e in items),
        confirmations_declined=sum(isinstance(e, ConfirmationDeclined) for e in items),
        breaches=sum(isinstance(e, WindowBreached) for e in items),
        fault=fault.name if fault else None,
        fault_step=fault.fails_step if fault else None,
        fault_met=bool(fault and fault.fails_step in failed),
        ticked=tuple(s for s, runs in attempts.items() if runs[-1] == StepStatus.TICKED),
    )


def _recovered(runs: list[str]) -> bool:
    last_failure = max(i for i, status in enumerate(runs) if status == StepStatus.FAILED)
    return any(status in (StepStatus.PASSED, StepStatus.SKIPPED) for status in runs[last_failure + 1 :])


def _windows(items: list[Event], started: SessionStarted, end: float) -> list[WindowResult]:
    """Every window runs from the session's start, as on screen and in the journal (core/engine/windows.py).

    The procedure's window is measured to resolution (or the end), a deadline to
    mitigation; a breach the engine recorded misses it whatever the milestones say.
    The impact start feeds only the incident metrics, never the score.
    """
    origin = started.at
    milestones = {e.milestone: e.at for e in reversed(items) if isinstance(e, MilestoneReached)}
    resolved = milestones.get("resolved", end)
    mitigated = milestones.get("mitigated", resolved)
    breached = {e.scope for e in items if isinstance(e, WindowBreached)}
    results = []
    if started.target_seconds:
        text = started.window_text or format_seconds(started.target_seconds)
        results.append(
            WindowResult(
                "procedure", text, started.target_seconds, resolved - origin, "procedure" in breached
            )
        )
    for event in items:
        if isinstance(event, DecisionMade) and event.deadline_seconds:
            text = f"{event.issue}: within {format_seconds(event.deadline_seconds)}"
            results.append(
                WindowResult(
                    event.row_id, text, event.deadline_seconds, mitigated - origin, event.row_id in breached
                )
            )
    return results


def format_score(result: DrillScore) -> str:
    """The debrief, as plain text lines for the terminal."""
    lines = [f"Drill score: {result.points}/100  ({result.procedure}: {result.outcome})"]
    lines.append(f"  time taken        {format_seconds(result.duration)}")
    for window in result.windows:
        verdict = "met" if window.met else "MISSED"
        label = "recovery window" if window.scope == "procedure" else f"deadline {window.scope}"
        lines.append(
            f"  {label:<17} {format_seconds(window.elapsed)} against {window.text} "
            f"({format_seconds(window.target)}): {verdict}"
        )
    if not result.windows:
        lines.append("  recovery window   none stated by the runbook")
    lines.append(f"  steps skipped     {_names([f'{s} ({r})' for s, r in result.skipped])}")
    lines.append(f"  checks failed     {_names(list(result.failed))}")
    lines.append(f"  retried           {_names(list(result.retried))}")
    lines.append(f"  recovered         {_names(list(result.recovered))}")
    if result.ticked:
        lines.append(f"  ticked, not done  {_names(list(result.ticked))}")
    lines.append(
        f"  confirmations     {result.confirmations_given} given, {result.confirmations_declined} declined"
    )
    if result.breaches:
        lines.append(f"  window breaches   {result.breaches}")
    if result.fault:
        met = "met" if result.fault_met else "not met"
        fixed = ""
        if result.fault_met:
            fixed = ", recovered" if result.fault_step in result.recovered else ", not recovered"
        lines.append(f"  fault             {result.fault} at step {result.fault_step}: {met}{fixed}")
    return "\n".join(lines)


def _names(items: list[str]) -> str:
    return ", ".join(items) if items else "none"
