"""Small text helpers shared by screens: windows, durations, step states."""

from __future__ import annotations

from ..core.durations import Window, format_seconds
from ..core.events import StepStatus
from ..core.model import Procedure

GLYPH: dict[StepStatus, str] = {
    StepStatus.PENDING: "○",
    StepStatus.RUNNING: "◐",
    StepStatus.PASSED: "✔",
    StepStatus.FAILED: "✘",
    StepStatus.SKIPPED: "↷",
    StepStatus.NEEDS_YOU: "◆",
    StepStatus.CANCELLED: "⊘",
    StepStatus.INTERRUPTED: "!",
    StepStatus.UNKNOWN: "?",
}

# Theme variables, so states follow the active Textual theme.
STATUS_STYLE: dict[StepStatus, str] = {
    StepStatus.PENDING: "$text-muted",
    StepStatus.RUNNING: "bold $accent",
    StepStatus.PASSED: "$success",
    StepStatus.FAILED: "bold $error",
    StepStatus.SKIPPED: "$text-muted italic",
    StepStatus.NEEDS_YOU: "bold $warning",
    StepStatus.CANCELLED: "$error",
    StepStatus.INTERRUPTED: "bold $warning",
    StepStatus.UNKNOWN: "$warning",
}

LABEL: dict[StepStatus, str] = {
    StepStatus.PENDING: "pending",
    StepStatus.RUNNING: "running",
    StepStatus.PASSED: "passed",
    StepStatus.FAILED: "failed",
    StepStatus.SKIPPED: "skipped",
    StepStatus.NEEDS_YOU: "needs you",
    StepStatus.CANCELLED: "cancelled",
    StepStatus.INTERRUPTED: "interrupted",
    StepStatus.UNKNOWN: "unknown",
}


def window_text(window: Window | None) -> str:
    """The window as the runbook wrote it, or a dash."""
    return window.text if window else "—"


def procedure_line(index: int, procedure: Procedure) -> str:
    """``1 app-rollback · Application Rollback · < 5 minutes``."""
    return f"{index}. {procedure.title}  [{window_text(procedure.window)}]"


def duration_text(seconds: float | None) -> str:
    """A step's duration, blank when it has not run."""
    return "" if seconds is None else format_seconds(seconds)
