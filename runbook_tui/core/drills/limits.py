"""A drill's caps on steps that wait (drill.yaml's ``watch_limit`` and ``retry_limit``).

A practice run should not sit through a 5-minute log watch or a minute of health
retries; the drill says how long is enough. Live sessions never get these caps.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DrillLimits:
    """Seconds a drill lets steps wait; None leaves the runbook's own value."""

    watch: float | None = None  # a watch step's duration is cut to this (watch_limit)
    retry: float | None = None  # an http step's retry_for is cut to this (retry_limit)
