"""Extras from the runbook file when it is still where the session found it (optional)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..model import Runbook
from ..templates import facts_for, fill
from .context import EMPTY, ChecklistText, ReportContext, TemplateText
from .model import Report


def context_for(report: Report) -> ReportContext:
    """The runbook's checklists and templates (filled from the session), or nothing if it is gone."""
    runbook = _load(report.runbook_path)
    if runbook is None:
        return EMPTY
    try:
        changed = hashlib.sha256(Path(report.runbook_path).read_bytes()).hexdigest() != report.runbook_sha256
    except OSError:
        return EMPTY
    return context_from(report, runbook, changed=changed)


def context_from(report: Report, runbook: Runbook, *, changed: bool = False) -> ReportContext:
    """The report context for ``report`` from an already loaded ``runbook``."""
    decision = report.decisions[-1] if report.decisions else None
    facts = facts_for(
        procedure_title=report.procedure_title,
        operator=report.operator,
        outcome=report.outcome,
        decision_row_id=decision.row_id if decision else None,
        decision_issue=decision.issue if decision else "",
        first_note=report.notes[0].text if report.notes else "",
        runbook=runbook,
    )
    templates = tuple(
        TemplateText(f.template_id, f.title, f.text, f.missing)
        for f in (fill(t, facts) for t in runbook.templates)
    )
    checklists = tuple(
        ChecklistText(c.id, c.title, tuple(i.text for i in c.items)) for c in runbook.checklists
    )
    return ReportContext(templates=templates, checklists=checklists, runbook_changed=changed)


def _load(path: str) -> Runbook | None:
    if not path or not Path(path).is_file():
        return None
    from ..errors import RunbookTuiError
    from ..loader import load_runbook

    try:
        return load_runbook(Path(path))
    except (RunbookTuiError, OSError, ValueError):
        return None  # a runbook that no longer loads only loses the optional extras
