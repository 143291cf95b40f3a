"""Small text helpers shared by screens: windows, durations, step states."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.durations import Window, format_seconds

if TYPE_CHECKING:
    from ..core.events import StepStatus
    from ..core.model import Procedure

    GLYPH: dict[StepStatus, str]  # the glyph of each step state
    STATUS_STYLE: dict[StepStatus, str]  # its style (theme variables)
    LABEL: dict[StepStatus, str]  # its word

# The step-state tables are built on first use (PEP 562): they need core.events, whose
# ~45 dataclasses cost 25-40 ms to import, and the library screen (the start-up path)
# only needs window_text.
_TABLES = ("GLYPH", "STATUS_STYLE", "LABEL")


def __getattr__(name: str) -> dict[StepStatus, str]:
    if name not in _TABLES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals().update(_status_tables())
    return globals()[name]


def _status_tables() -> dict[str, dict[StepStatus, str]]:
    from ..core.events import StepStatus

    glyph = {
        StepStatus.PENDING: "○",
        StepStatus.RUNNING: "◐",
        StepStatus.PASSED: "✔",
        StepStatus.FAILED: "✘",
        StepStatus.SKIPPED: "↷",
        StepStatus.NEEDS_YOU: "◆",
        StepStatus.CANCELLED: "⊘",
        StepStatus.INTERRUPTED: "!",
        StepStatus.UNKNOWN: "?",
        StepStatus.TICKED: "☐",
    }

    # Theme variables, so states follow the active Textual theme.
    style = {
        StepStatus.PENDING: "$text-muted",
        StepStatus.RUNNING: "bold $accent",
        StepStatus.PASSED: "$success",
        StepStatus.FAILED: "bold $error",
        StepStatus.SKIPPED: "$text-muted italic",
        StepStatus.NEEDS_YOU: "bold $warning",
        StepStatus.CANCELLED: "$error",
        StepStatus.INTERRUPTED: "bold $warning",
        StepStatus.UNKNOWN: "$warning",
        StepStatus.TICKED: "$warning",
    }

    label = {
        StepStatus.PENDING: "pending",
        StepStatus.RUNNING: "running",
        StepStatus.PASSED: "passed",
        StepStatus.FAILED: "failed",
        StepStatus.SKIPPED: "skipped",
        StepStatus.NEEDS_YOU: "needs you",
        StepStatus.CANCELLED: "cancelled",
        StepStatus.INTERRUPTED: "interrupted",
        StepStatus.UNKNOWN: "unknown",
        StepStatus.TICKED: "ticked, not done",
    }
    # A manual step ticked by --yes (another branch adds the status): a tick, not a pass.
    ticked = getattr(StepStatus, "TICKED", None)
    if ticked is not None:
        glyph.setdefault(ticked, "☐")
        style.setdefault(ticked, "$warning")
        label.setdefault(ticked, "ticked")
    return {
        "GLYPH": _ByStatus(glyph, "·"),
        "STATUS_STYLE": _ByStatus(style, ""),
        "LABEL": _ByStatus(label, None),
    }


class _ByStatus(dict["StepStatus", str]):
    """A status table that still answers for a status it does not list: a plain glyph,
    no colour, and the status's own word (so a state is never shown by colour alone)."""

    def __init__(self, table: dict[StepStatus, str], default: str | None) -> None:
        super().__init__(table)
        self.default = default

    def __missing__(self, status: StepStatus) -> str:
        if self.default is not None:
            return self.default
        return str(getattr(status, "value", status)).replace("_", " ")


def window_text(window: Window | None) -> str:
    """The window as the runbook wrote it, or a dash."""
    return window.text if window else "—"


def procedure_line(index: int, procedure: Procedure) -> str:
    """``1 app-rollback · Application Rollback · < 5 minutes``."""
    return f"{index}. {procedure.title}  [{window_text(procedure.window)}]"


def duration_text(seconds: float | None) -> str:
    """A step's duration, blank when it has not run."""
    return "" if seconds is None else format_seconds(seconds)
