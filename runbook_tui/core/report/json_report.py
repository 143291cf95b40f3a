"""The report as JSON for incident tools; the schema is documented in docs/report-json.md."""

from __future__ import annotations

import json
from typing import Any

from ... import __version__
from ..events import iso_utc
from . import evidence
from .context import EMPTY, ReportContext
from .metrics import MILESTONES, Breach
from .model import Attempt, Report

SCHEMA_VERSION = 1


def render(report: Report, context: ReportContext = EMPTY) -> str:
    """The report as indented JSON text."""
    return json.dumps(to_data(report, context), indent=2, ensure_ascii=False) + "\n"


def to_data(report: Report, context: ReportContext = EMPTY) -> dict[str, Any]:
    """The report as JSON-ready data (see docs/report-json.md)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_by": f"runbook-tui {__version__}",
        "session": _session(report),
        "journal": {
            "path": report.path,
            "torn_tail": report.torn_tail,
            "problems": list(report.problems),
            "output_lines": report.output_lines,
            "runbook_changed": context.runbook_changed,
        },
        "metrics": _metrics(report),
        **evidence.json_fields(report),  # "incident" and "chain" (issue 17; docs/report-json.md)
        "breaches": [_breach(report, b) for b in report.metrics.breaches],
        "warnings": [_breach(report, b) for b in report.metrics.warnings],
        "timeline": [
            {
                "at": r.iso,
                "since_start_seconds": round(r.since_start, 3),
                "since_start": r.offset,
                "kind": r.kind,
                "category": r.category,
                "text": r.text,
                "step_id": r.step_id,
                "role": r.role or None,
            }
            for r in report.timeline
        ],
        "decisions": [
            {
                "row_id": d.row_id,
                "issue": d.issue,
                "procedure_id": d.procedure_id,
                "deadline_seconds": d.deadline_seconds,
                "by": d.by,
                "at": iso_utc(d.at),
            }
            for d in report.decisions
        ],
        "parameters": [
            {"name": p.name, "value": p.value, "secret": p.secret, "source": p.source, "at": iso_utc(p.at)}
            for p in report.parameters
        ],
        "steps": [_attempt(report, a) for a in report.attempts],
        "hosts": [
            {
                "step_id": f.step_id,
                "title": f.title,
                "pattern": f.pattern,
                "hosts": [
                    {
                        "host": h.host,
                        "status": h.status,
                        "batch": h.batch,
                        "duration_seconds": _secs(h.duration),
                        "rc": h.rc,
                        "attempt": h.attempt,
                        "message": h.message,
                    }
                    for h in f.hosts
                ],
            }
            for f in report.fleet
        ],
        "skipped": [
            {"step_id": s.step_id, "title": s.title, "reason": s.reason, "at": iso_utc(s.at)}
            for s in report.skips
        ],
        "confirmations": [
            {"step_id": c.step_id, "message": c.message, "given": c.given, "by": c.by, "at": iso_utc(c.at)}
            for c in report.confirmations
        ],
        "edits": [
            {
                "step_id": e.step_id,
                "path": e.path,
                "diff": e.diff,
                "before_sha256": e.before_sha256,
                "after_sha256": e.after_sha256,
                "at": iso_utc(e.at),
                "undone_at": iso_utc(e.undone_at) if e.undone_at is not None else None,
            }
            for e in report.edits
        ],
        "notes": [
            {"text": n.text, "step_id": n.step_id, "author": n.author or None, "at": iso_utc(n.at)}
            for n in report.notes
        ],
        "templates": _templates(report, context),
        "checklist": _checklist(report, context),
        "plans": [
            {"by": p.by, "at": iso_utc(p.at), "lines": list(p.lines), "unplanned": list(p.unplanned)}
            for p in report.plans
        ],
    }


def _session(report: Report) -> dict[str, Any]:
    host = report.operator.split("@", 1)[1] if "@" in report.operator else None
    return {
        "id": report.session_id,
        "runbook": {
            "id": report.runbook_id,
            "title": report.runbook_title,
            "path": report.runbook_path,
            "sha256": report.runbook_sha256,
        },
        "procedure": {"id": report.procedure_id, "title": report.procedure_title},
        "mode": report.mode,
        "operator": report.operator,
        "host": host,
        "workdir": report.workdir,
        "app_version": report.app_version,
        "started": _iso(report.started_at),
        "finished": _iso(report.finished_at),
        "outcome": report.outcome,
        "message": report.finish_message,
    }


def _metrics(report: Report) -> dict[str, Any]:
    m = report.metrics
    data: dict[str, Any] = {
        "impact_started": _iso(m.impact_started_at),
        "impact_source": m.impact_source,
    }
    verbs = {
        "detected": "detect",
        "acknowledged": "acknowledge",
        "mitigated": "mitigate",
        "resolved": "resolve",
    }
    for milestone in MILESTONES:
        data[f"time_to_{verbs[milestone]}_seconds"] = _secs(m.time_to[milestone])
    data.update(
        {
            "duration_seconds": _secs(m.duration),
            "target_seconds": m.target_seconds,
            "window_text": m.window_text,
            "time_to_recover_seconds": _secs(m.time_to_recover),
            "within_target": m.within_target,
            "over_by_seconds": _secs(m.over_by),
        }
    )
    return data


def _breach(report: Report, b: Breach) -> dict[str, Any]:
    return {
        "scope": b.scope,
        "elapsed_seconds": round(b.elapsed, 3),
        "target_seconds": b.target,
        "at": iso_utc(b.at),
        "since_start_seconds": round(report.since_start(b.at), 3),
    }


def _attempt(report: Report, a: Attempt) -> dict[str, Any]:
    return {
        "step_id": a.step_id,
        "title": a.title,
        "kind": a.step_kind,
        "phase": a.phase,
        "attempt": a.attempt,
        "command": a.command,
        "role": a.role or None,
        "started": iso_utc(a.started_at),
        "since_start_seconds": round(report.since_start(a.started_at), 3),
        "finished": _iso(a.finished_at),
        "status": a.status,
        "duration_seconds": _secs(a.duration),
        "message": a.message,
        "exit_code": a.exit_code,
        "output_lines": a.output_lines,
        "output_tail": list(a.output_tail),
        "done_note": a.done_note or None,
    }


def _templates(report: Report, context: ReportContext) -> list[dict[str, Any]]:
    if report.templates:
        return [
            {
                "template_id": t.template_id,
                "title": t.template_id,
                "text": t.text,
                "missing": [],
                "source": "session",
                "at": iso_utc(t.at),
            }
            for t in report.templates
        ]
    return [
        {
            "template_id": t.template_id,
            "title": t.title,
            "text": t.text,
            "missing": list(t.missing),
            "source": "runbook",
            "at": None,
        }
        for t in context.templates
    ]


def _checklist(report: Report, context: ReportContext) -> list[dict[str, Any]]:
    ticks = {(t.checklist_id, t.item): t for t in report.ticks}
    out: list[dict[str, Any]] = []
    known = set()
    for c in context.checklists:
        known.add(c.checklist_id)
        for index, text in enumerate(c.items):
            tick = ticks.get((c.checklist_id, index))
            out.append(
                _item(c.checklist_id, index, text, tick.done if tick else False, tick.at if tick else None)
            )
    for t in report.ticks:
        if t.checklist_id not in known:
            out.append(_item(t.checklist_id, t.item, None, t.done, t.at))
    return out


def _item(checklist_id: str, item: int, text: str | None, done: bool, at: float | None) -> dict[str, Any]:
    return {"checklist_id": checklist_id, "item": item, "text": text, "done": done, "at": _iso(at)}


def _iso(at: float | None) -> str | None:
    return iso_utc(at) if at is not None else None


def _secs(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None
