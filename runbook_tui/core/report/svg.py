"""The report as an SVG timeline: one bar per step attempt on a time axis, the window marked.

Self-contained (no fonts, scripts or links to fetch), so it renders the same in a
browser and on GitHub. Every text goes through XML escaping.
"""

from __future__ import annotations

from collections.abc import Callable
from xml.sax.saxutils import escape, quoteattr

from ..durations import format_seconds
from . import evidence
from .model import Attempt, Report

WIDTH = 960
LABEL_W = 300
RIGHT = 30
TOP = 64
ROW = 24
BAR = 14
BOTTOM = 56
COLOURS = {
    "passed": "#2e7d32",
    "ticked": "#9e9d24",
    "failed": "#c62828",
    "cancelled": "#6d4c41",
    "unknown": "#757575",
    "interrupted": "#ef6c00",
    "running": "#1565c0",
}
Scale = Callable[[float], float]
_NICE = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)


def render(report: Report) -> str:
    """The timeline chart as SVG text."""
    start = report.started_at or 0.0
    span = _span(report, start)
    height = TOP + ROW * max(1, len(report.attempts)) + BOTTOM
    scale = (WIDTH - LABEL_W - RIGHT) / span
    notes = evidence.svg_lines(report)  # roles, handoffs, action items, chain head (issue 17)
    total = height + 18 * len(notes) + (8 if notes else 0)

    def x(seconds: float) -> float:
        return LABEL_W + max(0.0, seconds) * scale

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{total}" '
        f'viewBox="0 0 {WIDTH} {total}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(_heading(report))}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{total}" fill="#ffffff"/>',
        f'<text x="12" y="22" font-size="15" font-weight="bold" fill="#212121">'
        f"{escape(_heading(report))}</text>",
        f'<text x="12" y="42" fill="#424242">{escape(_subheading(report))}</text>',
    ]
    parts.extend(_window(report, x, height))
    parts.extend(_axis(span, x, height))
    for row, attempt in enumerate(report.attempts):
        parts.extend(_bar(report, attempt, row, start, x))
    if not report.attempts:
        parts.append(f'<text x="{LABEL_W}" y="{TOP + 16}" fill="#616161">No step was started.</text>')
    parts.extend(_legend(height))
    for n, line in enumerate(notes):
        y = height + 12 + 18 * n
        parts.append(f'<text x="12" y="{y}" fill="#424242" font-size="11">{escape(_clip(line, 150))}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _heading(report: Report) -> str:
    what = report.procedure_title or report.procedure_id or "Session"
    return f"{what}: {report.outcome}"


def _subheading(report: Report) -> str:
    bits = [report.runbook_title or report.runbook_id, report.mode, report.operator, report.session_id]
    if report.torn_tail:
        bits.append("journal tail torn")
    return " · ".join(b for b in bits if b)


def _span(report: Report, start: float) -> float:
    ends = [a.end_at - start for a in report.attempts]
    if report.metrics.duration is not None:
        ends.append(report.metrics.duration)
    if report.metrics.target_seconds is not None:
        ends.append(report.metrics.target_seconds * 1.05)
    return max([1.0, *ends])


def _window(report: Report, x: Scale, height: int) -> list[str]:
    target = report.metrics.target_seconds
    if target is None:
        return []
    tx = x(target)
    bottom = height - BOTTOM
    out = []
    breached = bool(report.metrics.breaches) or report.metrics.within_target is False
    if breached:
        out.append(
            f'<rect class="breach" x="{tx:.1f}" y="{TOP - 8}" width="{WIDTH - RIGHT - tx:.1f}" '
            f'height="{bottom - TOP + 8}" fill="#c62828" fill-opacity="0.12">'
            f"<title>after the recovery window: breached</title></rect>"
        )
    label = f"target {format_seconds(target)}" + (
        f" ({report.metrics.window_text})" if report.metrics.window_text else ""
    )
    out.append(
        f'<line class="target" x1="{tx:.1f}" y1="{TOP - 12}" x2="{tx:.1f}" y2="{bottom}" '
        f'stroke="#b71c1c" stroke-width="2" stroke-dasharray="6 3"/>'
    )
    anchor = "end" if tx > WIDTH - 200 else "start"
    dx = -4 if anchor == "end" else 4
    out.append(
        f'<text x="{tx + dx:.1f}" y="{TOP - 14}" text-anchor="{anchor}" fill="#b71c1c">{escape(label)}</text>'
    )
    return out


def _tick_step(span: float) -> int:
    return next((n for n in _NICE if span / n <= 10), _NICE[-1])


def _axis(span: float, x: Scale, height: int) -> list[str]:
    bottom = height - BOTTOM
    step = _tick_step(span)
    out = [f'<line x1="{LABEL_W}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#9e9e9e"/>']
    tick = 0
    while tick <= span:
        tx = x(tick)
        out.append(f'<line x1="{tx:.1f}" y1="{TOP - 4}" x2="{tx:.1f}" y2="{bottom + 4}" stroke="#eeeeee"/>')
        out.append(
            f'<text x="{tx:.1f}" y="{bottom + 18}" text-anchor="middle" fill="#616161">'
            f"{escape(format_seconds(tick))}</text>"
        )
        tick += step
    out.append(
        f'<text x="{(LABEL_W + WIDTH - RIGHT) / 2:.0f}" y="{bottom + 36}" text-anchor="middle" '
        f'fill="#616161">time since the session started</text>'
    )
    return out


def _bar(report: Report, a: Attempt, row: int, start: float, x: Scale) -> list[str]:
    y = TOP + row * ROW
    x0 = x(a.started_at - start)
    x1 = max(x0 + 2.0, x(a.end_at - start))
    colour = COLOURS.get(a.status, "#757575")
    label = _clip(a.title, 38) + (f" #{a.attempt}" if a.attempt > 1 else "")
    took = format_seconds(a.duration) if a.duration is not None else a.status
    tip = f"{a.title} ({a.step_id}, {a.phase}, attempt {a.attempt}): {a.status}, {took}"
    attrs = (
        f'class="bar" data-step={quoteattr(a.step_id)} data-attempt="{a.attempt}" '
        f"data-status={quoteattr(a.status)}"
    )
    text_x = x1 + 4 if x1 < WIDTH - RIGHT - 80 else x0 - 4
    anchor = "start" if x1 < WIDTH - RIGHT - 80 else "end"
    return [
        f'<text x="{LABEL_W - 8}" y="{y + BAR - 2}" text-anchor="end" fill="#212121">{escape(label)}</text>',
        f'<rect {attrs} x="{x0:.1f}" y="{y}" width="{x1 - x0:.1f}" height="{BAR}" rx="2" fill="{colour}">'
        f"<title>{escape(tip)}</title></rect>",
        f'<text x="{text_x:.1f}" y="{y + BAR - 2}" text-anchor="{anchor}" fill="#424242" font-size="11">'
        f"{escape(took)}</text>",
    ]


def _legend(height: int) -> list[str]:
    out = []
    lx = 12
    y = height - 14
    for status, colour in COLOURS.items():
        out.append(f'<rect x="{lx}" y="{y - 10}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{lx + 14}" y="{y}" fill="#424242" font-size="11">{status}</text>')
        lx += 24 + 7 * len(status)
    return out


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
