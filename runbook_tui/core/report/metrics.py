"""The report's time metrics: time to each milestone, time to recover, the window and its breaches.

Everything is measured from the start of impact: the one recorded (at the start,
or corrected later with ``impact_started_set``), else the session's start.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from .. import events as ev

MILESTONES = ("detected", "acknowledged", "mitigated", "resolved")


@dataclass(frozen=True, slots=True)
class Breach:
    scope: str  # "procedure" or a decision row id
    elapsed: float
    target: float
    at: float


@dataclass(frozen=True, slots=True)
class Metrics:
    """Time metrics, measured from the start of impact."""

    impact_started_at: float | None
    impact_source: str  # "recorded" or "session start"
    time_to: dict[str, float | None]  # milestone -> seconds since impact (first time reached)
    duration: float | None  # session start to finish (or to the last event while unfinished)
    target_seconds: float | None
    window_text: str
    time_to_recover: float | None
    within_target: bool | None
    over_by: float | None
    breaches: tuple[Breach, ...]
    warnings: tuple[Breach, ...]


@dataclass(frozen=True, slots=True)
class Clock:
    """What the metrics are computed from, as the fold of a journal left it."""

    started: ev.SessionStarted | None
    finished: ev.SessionFinished | None
    impact_set: ev.ImpactStartedSet | None  # the last correction of the start of impact
    start: float | None  # the session's start (or its first event)
    last_at: float | None  # the latest event seen
    milestones: Mapping[str, float]  # milestone -> when it was first reached
    breaches: Sequence[Breach]
    warnings: Sequence[Breach]


def compute_metrics(clock: Clock) -> Metrics:
    """Time to each milestone and to recovery, the duration, and the window's verdict."""
    s, fin, start = clock.started, clock.finished, clock.start
    recorded = s.impact_started_at if s else None
    if clock.impact_set is not None:
        recorded = clock.impact_set.impact_started_at  # given or corrected later: the last word
    impact = recorded if recorded is not None else start
    time_to = {
        m: (clock.milestones[m] - impact if m in clock.milestones and impact is not None else None)
        for m in MILESTONES
    }
    if fin is not None:
        duration: float | None = fin.duration
    elif start is not None and clock.last_at is not None:
        duration = clock.last_at - start
    else:
        duration = None
    recover = time_to["resolved"]
    if recover is None and fin is not None and fin.outcome == "succeeded" and impact is not None:
        recover = fin.at - impact
    target = s.target_seconds if s else None
    within = over = None
    if target is not None and duration is not None:
        within = duration <= target and not any(b.scope == "procedure" for b in clock.breaches)
        over = max(0.0, duration - target)
    return Metrics(
        impact_started_at=impact,
        impact_source="recorded" if recorded is not None else "session start",
        time_to=time_to,
        duration=duration,
        target_seconds=target,
        window_text=s.window_text if s else "",
        time_to_recover=recover,
        within_target=within,
        over_by=over,
        breaches=tuple(clock.breaches),
        warnings=tuple(clock.warnings),
    )


def milestone_problems(clock: Clock) -> tuple[str, ...]:
    """Milestones reached out of order (or before impact started): said, not reordered."""
    said: list[str] = []
    reached = [(m, clock.milestones[m]) for m in MILESTONES if m in clock.milestones]
    for (a, at_a), (b, at_b) in pairwise(reached):
        if at_b < at_a:
            said.append(f"{b} ({ev.iso_utc(at_b)[:19]}Z) was reached before {a} ({ev.iso_utc(at_a)[:19]}Z)")
    impact = clock.impact_set.impact_started_at if clock.impact_set else None
    if impact is None and clock.started is not None:
        impact = clock.started.impact_started_at
    if impact is not None:
        for m, at in reached:
            if at < impact:
                said.append(f"{m} ({ev.iso_utc(at)[:19]}Z) is before the recorded start of impact")
    return tuple(said)
