"""The report as Markdown: summary, timeline, steps, failures, skips, edits, notes, templates."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ..durations import format_seconds
from ..events import iso_utc
from . import evidence
from .context import EMPTY, ReportContext
from .metrics import MILESTONES
from .model import Attempt, Report, format_offset

_STATUS_WORD = {
    "passed": "passed",
    "ticked": "ticked, not done (nobody did it)",
    "failed": "failed",
    "cancelled": "cancelled",
    "unknown": "unknown effect",
    "interrupted": "interrupted",
    "running": "still running when the journal ends",
}


def render(report: Report, context: ReportContext = EMPTY, *, chart: str | None = None) -> str:
    """The whole report as one Markdown document; ``chart``: the timeline SVG written beside it."""
    parts: list[str] = [_title(report), *_warnings(report, context), _summary(report), _metrics(report)]
    parts.extend(_plans(report))
    parts.extend(evidence.markdown_sections(report))  # roles, handoffs, action items, chain (issue 17)
    parts.append(evidence.chart_line(report, chart))
    parts.append(_timeline(report))
    parts.append(_steps(report))
    parts.extend(_fleet(report))
    parts.extend(_failed(report))
    parts.extend(_skipped(report))
    parts.extend(_edits(report))
    parts.extend(_parameters(report))
    parts.extend(_notes(report))
    parts.extend(_templates(report, context))
    parts.extend(_checklists(report, context))
    return "\n\n".join(p for p in parts if p).rstrip() + "\n"


# --- helpers -----------------------------------------------------------------


def cell(text: object) -> str:
    """A value made safe for one Markdown table cell (pipes escaped, newlines as <br>)."""
    value = str(text).replace("\\", "\\\\").replace("|", "\\|")
    return "<br>".join(part for part in value.splitlines()) if "\n" in value else value


def fence(body: str, info: str = "text") -> str:
    """``body`` in a fenced block whose fence is longer than any backtick run inside."""
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{info}\n{body.rstrip(chr(10))}\n{ticks}"


def table(headings: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headings) + " |", "|" + "|".join(" --- " for _ in headings) + "|"]
    lines.extend("| " + " | ".join(cell(v) for v in row) + " |" for row in rows)
    return "\n".join(lines)


def _when(report: Report, at: float) -> str:
    return f"{iso_utc(at)[:19]}Z ({format_offset(report.since_start(at))})"


def _dur(seconds: float | None) -> str:
    return format_seconds(seconds) if seconds is not None else "–"


# --- sections ------------------------------------------------------------------


def _title(report: Report) -> str:
    what = report.procedure_title or report.procedure_id or "unknown procedure"
    return f"# Post-incident report: {what}"


def _warnings(report: Report, context: ReportContext) -> list[str]:
    notes = [f"> **Note:** {p}" for p in report.problems]
    if context.runbook_changed:
        notes.append(
            "> **Note:** the runbook file has changed since this session ran; "
            "its templates and checklist texts below are from the current file."
        )
    return ["\n>\n".join(notes)] if notes else []


def _host(operator: str) -> str:
    return operator.split("@", 1)[1] if "@" in operator else "not recorded"


def _summary(report: Report) -> str:
    m = report.metrics
    runbook = f"{report.runbook_title} (`{report.runbook_id}`)" if report.runbook_title else report.runbook_id
    sha = f", sha256 `{report.runbook_sha256[:12]}`" if report.runbook_sha256 else ""
    decisions = "; ".join(f"{d.issue} (row `{d.row_id}`)" for d in report.decisions) or "none recorded"
    rows = [
        ("What", f"{report.procedure_title} (`{report.procedure_id}`)"),
        ("Runbook", f"{runbook}{sha}"),
        ("Runbook file", f"`{report.runbook_path}`" if report.runbook_path else "not recorded"),
        ("Triage", decisions),
        ("Who", report.operator or "not recorded"),
        ("Where", f"host {_host(report.operator)}" + (f", in `{report.workdir}`" if report.workdir else "")),
        ("Mode", report.mode or "not recorded"),
        ("Session", f"`{report.session_id}`, runbook-tui {report.app_version}"),
        ("Started", f"{iso_utc(report.started_at)[:19]}Z" if report.started_at is not None else "unknown"),
        (
            "Finished",
            f"{iso_utc(report.finished_at)[:19]}Z" if report.finished_at is not None else "unfinished",
        ),
        ("Outcome", _outcome(report)),
        ("Time to recover", _recovery(report)),
        ("Breaches", _breaches(report) if m.breaches else "none"),
    ]
    return "## Summary\n\n" + "\n".join(f"- **{k}:** {v}" for k, v in rows)


def _outcome(report: Report) -> str:
    text = report.outcome
    if report.finish_message:
        text += f": {report.finish_message}"
    if report.ticked:
        names = ", ".join(f"`{a.step_id}`" for a in report.ticked)
        text += f"; {len(report.ticked)} manual step(s) ticked without being done ({names})"
    return text


def _recovery(report: Report) -> str:
    m = report.metrics
    parts = []
    if m.time_to_recover is not None:
        since = "the start of impact" if m.impact_source == "recorded" else "the session start"
        parts.append(f"{format_seconds(m.time_to_recover)} from {since}")
    elif report.outcome != "succeeded":
        parts.append("not recovered in this session")
    if m.duration is not None:
        took = f"the procedure took {format_seconds(m.duration)}"
        if m.target_seconds is None:
            parts.append(f"{took}; it states no recovery window")
        else:
            window = f" ({m.window_text})" if m.window_text else ""
            verdict = "within it" if m.within_target else f"over by {format_seconds(m.over_by or 0.0)}"
            parts.append(f"{took} against a target of {format_seconds(m.target_seconds)}{window}: {verdict}")
    return "; ".join(parts) or "unknown"


def _breaches(report: Report) -> str:
    return "; ".join(
        f"{'recovery window' if b.scope == 'procedure' else 'row ' + b.scope} "
        f"({format_seconds(b.target)}) exceeded at {_when(report, b.at)}"
        for b in report.metrics.breaches
    )


def _metrics(report: Report) -> str:
    m = report.metrics
    since = "the recorded start of impact" if m.impact_source == "recorded" else "the session start"
    start = f" ({iso_utc(m.impact_started_at)[:19]}Z)" if m.impact_started_at is not None else ""
    rows = [
        (f"Time to {name.removesuffix('ed').removesuffix('d')}", _dur(m.time_to[name])) for name in MILESTONES
    ]
    rows = [(_metric_name(name), _dur(m.time_to[name])) for name in MILESTONES]
    rows.append(("Total duration", _dur(m.duration)))
    rows.append(("Target window", _dur(m.target_seconds) + (f" ({m.window_text})" if m.window_text else "")))
    return f"## Time metrics\n\nMeasured from {since}{start}.\n\n" + table(("Metric", "Time"), rows)


def _metric_name(milestone: str) -> str:
    verbs = {
        "detected": "detect",
        "acknowledged": "acknowledge",
        "mitigated": "mitigate",
        "resolved": "resolve",
    }
    return f"Time to {verbs[milestone]}"


def _plans(report: Report) -> list[str]:
    """What was reviewed before the run: the plan as shown (``run --plan-first``, the app's plan)."""
    out = []
    for plan in report.plans:
        gaps = "".join(f"\n- could not be planned: {cell(u)}" for u in plan.unplanned)
        out.append(
            f"## Plan reviewed\n\nReviewed by {plan.by or 'the engineer'} at {_when(report, plan.at)} "
            f"before the run ({len(plan.lines)} lines).{gaps}\n\n" + fence("\n".join(plan.lines))
        )
    return out


def _timeline(report: Report) -> str:
    rows = ((f"{r.iso[:19]}Z", r.offset, r.category, r.text, r.role or "–") for r in report.timeline)
    body = table(("UTC", "Since start", "Kind", "What happened", "Role"), rows)
    return "## Timeline\n\n" + (body if report.timeline else "No events were recorded.")


def _steps(report: Report) -> str:
    if not report.attempts:
        return "## Steps\n\nNo step was started."
    rows = (
        (
            a.phase,
            f"{a.title} (`{a.step_id}`)",
            a.attempt,
            _STATUS_WORD.get(a.status, a.status) + (" (marked done by hand)" if a.done_note else ""),
            _dur(a.duration),
            format_offset(report.since_start(a.started_at)),
            a.role or "–",
        )
        for a in report.attempts
    )
    return "## Steps\n\n" + table(("Phase", "Step", "Attempt", "Status", "Duration", "Started", "Role"), rows)


def _fleet(report: Report) -> list[str]:
    """One per-host table for each step that ran on a fleet, failed hosts first."""
    out: list[str] = []
    for f in report.fleet:
        order = {"failed": 0, "unreachable": 1, "not run": 2, "running": 3}
        hosts = sorted(f.hosts, key=lambda h: order.get(h.status, 4))
        rows = [
            (
                h.host,
                h.batch if h.batch is not None else "",
                h.status,
                _dur(h.duration) if h.duration is not None else "",
                "" if h.rc is None else h.rc,
                h.attempt if h.attempt is not None else "",
                h.message,
            )
            for h in hosts
        ]
        pattern = f" on `{f.pattern}`" if f.pattern else ""
        head = f"### {cell(f.title)} (`{f.step_id}`){pattern}: {len(f.hosts)} hosts"
        out.append(
            head + "\n\n" + table(("Host", "Batch", "Result", "Duration", "Exit", "Attempt", "Message"), rows)
        )
    return ["## Hosts", *out] if out else []


def _failed(report: Report) -> list[str]:
    failed = report.failed
    if not failed:
        return []
    return ["## Failed and interrupted steps", *(_failure(report, a) for a in failed)]


def _failure(report: Report, a: Attempt) -> str:
    lines = [f"### {a.title} (`{a.step_id}`, attempt {a.attempt}): {_STATUS_WORD.get(a.status, a.status)}"]
    facts = [f"Started {_when(report, a.started_at)}"]
    if a.duration is not None:
        facts.append(f"ran for {format_seconds(a.duration)}")
    if a.exit_code is not None:
        facts.append(f"exit code {a.exit_code}")
    lines.append(", ".join(facts) + ".")
    if a.command:
        lines.append(fence(a.command, "sh"))
    if a.message:
        lines.append(f"Result: {a.message}")
    if a.done_note:
        lines.append(f"Marked done by hand: {a.done_note}")
    if a.output_tail:
        shown = len(a.output_tail)
        lead = (
            f"The last {shown} of {a.output_lines} output lines:" if a.output_lines > shown else "Its output:"
        )
        lines.append(lead + "\n\n" + fence("\n".join(a.output_tail)))
    else:
        lines.append("It printed nothing.")
    return "\n\n".join(lines)


def _skipped(report: Report) -> list[str]:
    if not report.skips:
        return []
    items = (f"- **{s.title}** (`{s.step_id}`) at {_when(report, s.at)}: {s.reason}" for s in report.skips)
    return ["## Skipped steps\n\n" + "\n".join(items)]


def _edits(report: Report) -> list[str]:
    if not report.edits:
        return []
    out = ["## File edits"]
    for e in report.edits:
        undone = f" It was undone at {_when(report, e.undone_at)}." if e.undone_at is not None else ""
        head = f"### `{e.path}`\n\nEdited by step `{e.step_id}` at {_when(report, e.at)}.{undone}"
        out.append(head + "\n\n" + fence(e.diff, "diff"))
    return out


def _parameters(report: Report) -> list[str]:
    if not report.parameters:
        return []
    rows = (
        (p.name, "(secret, redacted)" if p.secret else p.value, p.source, _when(report, p.at))
        for p in report.parameters
    )
    return ["## Parameters\n\n" + table(("Name", "Value", "Source", "Set at"), rows)]


def _notes(report: Report) -> list[str]:
    if not report.notes:
        return []
    items = []
    for n in report.notes:
        where = f" on `{n.step_id}`" if n.step_id else ""
        who = f" ({n.author})" if n.author else ""
        body = n.text.replace("\n", "\n  ")
        items.append(f"- {_when(report, n.at)}{where}{who}: {body}")
    return ["## Notes\n\n" + "\n".join(items)]


def _templates(report: Report, context: ReportContext) -> list[str]:
    if report.templates:
        blocks = [
            f"### {t.template_id}\n\nFilled at {_when(report, t.at)}.\n\n" + fence(t.text)
            for t in report.templates
        ]
        return ["## Communication templates", *blocks]
    if context.templates:
        blocks = []
        for t in context.templates:
            todo = f"\n\nStill to fill in: {', '.join(t.missing)}." if t.missing else ""
            blocks.append(f"### {t.title}{todo}\n\n" + fence(t.text))
        return ["## Communication templates\n\nFilled from the session; none was saved during it.", *blocks]
    return []


def _checklists(report: Report, context: ReportContext) -> list[str]:
    if not report.ticks and not context.checklists:
        return []
    ticked = {(t.checklist_id, t.item): t.done for t in report.ticks}
    out = ["## Post-rollback checklist"]
    known = {c.checklist_id for c in context.checklists}
    for c in context.checklists:
        items = (
            f"- [{'x' if ticked.get((c.checklist_id, i)) else ' '}] {text}" for i, text in enumerate(c.items)
        )
        out.append(f"### {c.title}\n\n" + "\n".join(items))
    extra = [t for t in report.ticks if t.checklist_id not in known]
    if extra:
        lines = (f"- [{'x' if t.done else ' '}] {t.checklist_id}: item {t.item + 1}" for t in extra)
        out.append("\n".join(lines))
    return out
