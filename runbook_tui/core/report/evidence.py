"""What every report format adds for the record (issue 17): roles, handoffs, action items,
milestones (out of order ones flagged) and the journal's chain.

The JSON names map one-to-one to incident.io, FireHydrant and Rootly (see
``docs/report-json.md``): ``started_at`` ... ``resolved_at`` for the milestones,
``action_items`` with ``summary``/``assignee``/``due_date``, ``roles`` with
``role``/``assignee``.
"""

from __future__ import annotations

from typing import Any

from ..events import iso_utc
from .metrics import MILESTONES
from .model import HandoffRow, Report
from .wording import handoff_sentence

_ROLE_TITLES = {
    "incident_commander": "Incident commander",
    "operator": "Operator",
    "communications": "Communications",
    "scribe": "Scribe",
}


def _iso(at: float | None) -> str | None:
    return iso_utc(at) if at is not None else None


def milestone_times(report: Report) -> dict[str, float | None]:
    """``started`` (impact) and each milestone's first time, epoch seconds (None when not reached)."""
    m = report.metrics
    times: dict[str, float | None] = {"started": m.impact_started_at}
    for name in MILESTONES:
        since = m.time_to[name]
        times[name] = (
            m.impact_started_at + since if since is not None and m.impact_started_at is not None else None
        )
    return times


def json_fields(report: Report) -> dict[str, Any]:
    """The ``incident`` and ``chain`` objects of the JSON report."""
    times = milestone_times(report)
    return {
        "incident": {
            **{f"{name}_at": _iso(at) for name, at in times.items()},
            "impact_source": report.metrics.impact_source,
            "milestone_problems": list(report.milestone_problems),
            "roles": [{"role": role, "assignee": name} for role, name in report.roles],
            "action_items": [
                {
                    "summary": a.text,
                    "assignee": a.owner,
                    "due_date": a.due or None,
                    "created_at": iso_utc(a.at),
                    "created_by": a.author or None,
                    "step_id": a.step_id,
                }
                for a in report.action_items
            ],
            "handoffs": [_handoff(h) for h in report.handoffs],
        },
        "chain": {k: report.chain.get(k) for k in ("status", "head", "key_fingerprint", "message")},
    }


def _handoff(h: HandoffRow) -> dict[str, Any]:
    return {
        "at": iso_utc(h.at),
        "from": h.from_operator,
        "to": h.to_operator,
        "reason": h.reason,
        "running_steps": list(h.running),
        "text": handoff_sentence(h),
    }


def markdown_sections(report: Report) -> list[str]:
    """Roles and handoffs, action items, milestone problems and the chain, as markdown sections."""
    from .markdown import table

    parts: list[str] = []
    people: list[str] = []
    if report.roles:
        people.append(
            "\n".join(f"- **{_ROLE_TITLES.get(role, role)}:** {name}" for role, name in report.roles)
        )
    if report.handoffs:
        people.append(
            "Handoffs:\n\n"
            + "\n".join(f"- {iso_utc(h.at)[:19]}Z: {handoff_sentence(h)}" for h in report.handoffs)
        )
    if people:
        parts.append("## Roles and handoffs\n\n" + "\n\n".join(people))
    if report.action_items:
        rows = (
            (a.text, a.owner, a.due or "–", f"{iso_utc(a.at)[:19]}Z", a.author or "–")
            for a in report.action_items
        )
        parts.append("## Action items\n\n" + table(("Action item", "Owner", "Due", "Recorded", "By"), rows))
    if report.milestone_problems:
        said = "\n".join(f"- {p}" for p in report.milestone_problems)
        parts.append(f"## Milestones out of order\n\nShown as recorded, not reordered:\n\n{said}")
    chain = report.chain
    if chain:
        parts.append(
            "## Journal integrity\n\n" + "\n".join(f"- **{k}:** {v}" for k, v in _chain_lines(chain))
        )
    return parts


def _chain_lines(chain: dict[str, Any]) -> list[tuple[str, str]]:
    lines = [("Chain", str(chain.get("status", "unknown")))]
    if chain.get("head"):
        lines.append(("Head hash", f"`{chain['head']}`"))
    if chain.get("key_fingerprint"):
        lines.append(("Key fingerprint", f"`{chain['key_fingerprint']}`"))
    if chain.get("message"):
        lines.append(("Verify", str(chain["message"])))
    return lines


def svg_lines(report: Report) -> list[str]:
    """Plain lines under the chart: roles, handoffs, action items, problems, chain head."""
    lines: list[str] = []
    if report.roles:
        lines.append("Roles: " + ", ".join(f"{_ROLE_TITLES.get(r, r)} {n}" for r, n in report.roles))
    lines.extend(f"Handoff: {handoff_sentence(h)}" for h in report.handoffs)
    for a in report.action_items:
        due = f", due {a.due}" if a.due else ""
        lines.append(f"Action item ({a.owner}{due}): {a.text}")
    lines.extend(f"Milestones out of order: {p}" for p in report.milestone_problems)
    if report.chain.get("head"):
        lines.append(
            f"Journal head hash {report.chain['head']} (key {report.chain.get('key_fingerprint', '?')})"
        )
    return lines


def chart_line(report: Report, chart: str | None) -> str:
    """The timeline chart: linked when it was written beside the report, else how to get it."""
    if chart:
        return f"![Timeline: a bar per step against the recovery window]({chart})"
    return (
        "The timeline as a chart (a bar per step against the recovery window): "
        f"`runbook-tui report {report.session_id} --format svg -o timeline.svg`"
    )
