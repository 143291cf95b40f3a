"""The session's timeline as text bars (issue 17): one bar per step against the recovery window.

The part of a bar past the window is marked (a breach), the window's edge is a line,
and the milestones sit on the same axis. :func:`chart_rows` lays it out for a width
(pure: states in, styled text runs out); :class:`TimelineChart` draws it at the width
it is given, so it fits 80 columns and uses 120.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.widgets import Static

from ...core.durations import format_seconds
from ...core.journal.fold import SessionState

Run = tuple[str, str]  # (text, style)
_STATUS_STYLE = {
    "passed": "$success",
    "ticked": "$warning",
    "failed": "$error",
    "cancelled": "$warning",
    "interrupted": "$warning",
    "unknown": "$text-muted",
    "running": "$accent",
    "needs_you": "$accent",
}
_MILESTONE_MARK = {"detected": "D", "acknowledged": "A", "mitigated": "M", "resolved": "R"}
BREACH_STYLE = "bold $error"
WINDOW_STYLE = "$warning"


@dataclass(frozen=True, slots=True)
class Step:
    """A step as the chart needs it."""

    title: str
    started_at: float | None
    ended_at: float | None
    status: str


def chart_rows(state: SessionState, steps: list[Step], width: int) -> list[list[Run]]:
    """The chart as rows of styled runs, ``width`` cells wide (at least 40)."""
    width = max(40, width)
    start = state.started_at
    if start is None:
        return [[("No session recorded yet.", "$text-muted")]]
    label_w = min(24, max(10, width // 4))
    plot = width - label_w - 1
    end = max(
        [s.ended_at or s.started_at or start for s in steps]
        + [state.finished_at or state.last_event_at or start]
    )
    target = state.target_seconds
    span = max(target or 0.0, end - start, 1.0) * 1.06

    def col(at: float) -> int:
        return max(0, min(plot - 1, int((at - start) / span * (plot - 1))))

    window_col = col(start + target) if target else None
    rows: list[list[Run]] = []
    for step in steps:
        label = _clip(step.title, label_w - 1).ljust(label_w)
        if step.started_at is None:
            rows.append([(label, ""), ("not run", "$text-muted")])
            continue
        first, last = col(step.started_at), col(step.ended_at or step.started_at)
        runs: list[Run] = [(label, "")]
        for c in range(plot):
            if first <= c <= last:
                late = window_col is not None and c > window_col
                runs.append(("▓", BREACH_STYLE) if late else ("█", _STATUS_STYLE.get(step.status, "")))
            elif c == window_col:
                runs.append(("│", WINDOW_STYLE))
            else:
                runs.append((" ", ""))
        rows.append(_merge(runs))
    rows.append(_merge(_milestones(state, label_w, plot, col, window_col)))
    rows.append(_merge(_axis(label_w, plot, (col(end), end - start), window_col, target)))
    rows.append(_legend(state, target))
    return rows


def _milestones(
    state: SessionState, label_w: int, plot: int, col: object, window_col: int | None
) -> list[Run]:
    assert callable(col)
    cells: list[Run] = [(" ", "")] * plot
    if window_col is not None:
        cells[window_col] = ("│", WINDOW_STYLE)
    for breach in state.breaches:
        if breach.scope == "procedure":
            cells[col(breach.at)] = ("✕", BREACH_STYLE)
    seen: set[str] = set()
    for m in state.milestones:
        if m.milestone in seen:
            continue
        seen.add(m.milestone)
        cells[col(m.at)] = (f"{_MILESTONE_MARK.get(m.milestone, '◆')}", "bold $accent")
    return [("milestones".ljust(label_w), "$text-muted"), *cells]


def _axis(
    label_w: int, plot: int, end: tuple[int, float], window_col: int | None, target: float | None
) -> list[Run]:
    """``0`` at the start, the window's length under its edge, the session's length under its end."""
    cells = [" "] * plot
    _put(cells, 0, "0")
    end_col, took = end
    end_text = format_seconds(took)
    end_at = max(2, min(plot - len(end_text), end_col - len(end_text) // 2))
    if window_col is not None and target:
        window_text = format_seconds(target)
        window_at = max(0, min(plot - len(window_text), window_col - len(window_text) // 2))
        _put(cells, window_at, window_text)
        if abs(end_at - window_at) <= max(len(end_text), len(window_text)):
            return [(" " * label_w, ""), ("".join(cells), "$text-muted")]
    _put(cells, end_at, end_text)
    return [(" " * label_w, ""), ("".join(cells), "$text-muted")]


def _legend(state: SessionState, target: float | None) -> list[Run]:
    runs: list[Run] = [("█", "$success"), (" step  ", "$text-muted")]
    if target:
        runs += [
            ("│", WINDOW_STYLE),
            (" window  ", "$text-muted"),
            ("▓", BREACH_STYLE),
            (" past it  ", "$text-muted"),
        ]
    if state.breaches:
        runs += [("✕", BREACH_STYLE), (" breach  ", "$text-muted")]
    if state.milestones:
        runs += [("DAMR", "bold $accent"), (" milestones", "$text-muted")]
    impact = state.impact_started_at
    if impact is not None and state.started_at is not None and impact < state.started_at:
        runs.append((f"  impact −{format_seconds(state.started_at - impact)}", "$text-muted"))
    return runs


def _put(cells: list[str], at: int, text: str) -> None:
    for i, ch in enumerate(text):
        if 0 <= at + i < len(cells):
            cells[at + i] = ch


def _merge(runs: list[Run]) -> list[Run]:
    out: list[Run] = []
    for text, style in runs:
        if out and out[-1][1] == style:
            out[-1] = (out[-1][0] + text, style)
        else:
            out.append((text, style))
    return out


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class TimelineChart(Static):
    """The chart, redrawn at the width it is given."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state: SessionState | None = None
        self.steps: list[Step] = []

    def show(self, state: SessionState, steps: list[Step]) -> None:
        """Draw ``steps`` of ``state``."""
        self.state, self.steps = state, steps
        self.refresh(layout=True)

    def render(self) -> Content:
        if self.state is None:
            return Content("")
        rows = chart_rows(self.state, self.steps, self.size.width or 78)
        parts: list[str | tuple[str, str]] = []
        for n, row in enumerate(rows):
            if n:
                parts.append("\n")
            parts.extend(row)
        return Content.assemble(*parts)
