"""Communication templates filled from the session, leaving the rest for the engineer.

A runbook template reads like ``Rollback Type: [Feature Flag/Code/Database]``:
a label, then a ``[hint]`` to replace. Labels the session can answer (rollback
type, initiated by, reason, impact, current status) are filled; every other
``[...]`` stays as written and is listed as still to fill.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Runbook, Template

# "[Field]" but not a Markdown link "[text](url)" nor a checkbox "[ ]" / "[x]".
_PLACEHOLDER = re.compile(r"\[(?![ xX]\])([^\[\]\n]+)\](?!\()")
_LABELLED = re.compile(r"^(?P<lead>\s*(?:[-*]\s+)?)(?P<label>[A-Za-z][A-Za-z /&-]*?)\s*:\s*(?P<rest>.*)$")

_STATUS = {
    "succeeded": "Completed",
    "unfinished": "In progress",
    "failed": "Rollback failed; investigating",
    "aborted": "Rollback aborted",
}


@dataclass(frozen=True, slots=True)
class TemplateFacts:
    """What the session knows that a template asks for; empty means unknown."""

    rollback_type: str = ""  # the procedure's title
    initiated_by: str = ""  # the operator, user@host
    reason: str = ""  # the decision row's issue, else the first note
    impact: str = ""  # the decision row's impact
    status: str = ""  # In progress / Completed / ...

    def value_for(self, label: str) -> str:
        """The session's answer for a template label, or "" when it has none."""
        key = " ".join(label.lower().split())
        return {
            "rollback type": self.rollback_type,
            "type": self.rollback_type,
            "initiated by": self.initiated_by,
            "reason": self.reason,
            "impact": self.impact,
            "user impact": self.impact,
            "current status": self.status,
            "status": self.status,
        }.get(key, "")


@dataclass(frozen=True, slots=True)
class TemplateFill:
    """A template's text with what the session knows filled in, and the fields still open."""

    template_id: str
    title: str
    text: str
    missing: tuple[str, ...]


def status_for(outcome: str | None) -> str:
    """``Current Status`` wording for a session outcome (None or "unfinished" -> In progress)."""
    return _STATUS.get(outcome or "unfinished", "In progress")


def facts_for(
    *,
    procedure_title: str,
    operator: str,
    outcome: str | None,
    decision_row_id: str | None = None,
    decision_issue: str = "",
    first_note: str = "",
    runbook: Runbook | None = None,
) -> TemplateFacts:
    """Gather the facts from what a session recorded (and the runbook's decision row, if known)."""
    impact = ""
    if runbook is not None and decision_row_id:
        row = next((r for r in runbook.decision_matrix.rows if r.id == decision_row_id), None)
        if row is not None:
            impact = row.impact
            decision_issue = decision_issue or row.issue
    return TemplateFacts(
        rollback_type=procedure_title,
        initiated_by=operator,
        reason=decision_issue or first_note,
        impact=impact,
        status=status_for(outcome),
    )


def fill(template: Template, facts: TemplateFacts) -> TemplateFill:
    """Fill ``template``'s known fields from ``facts``; unknown ``[Field]``s stay for the engineer."""
    missing: dict[str, None] = {}
    lines = [_fill_line(line, facts, missing) for line in template.body.splitlines()]
    text = "\n".join(lines) + ("\n" if template.body.endswith("\n") else "")
    return TemplateFill(template.id, template.title, text, tuple(missing))


def _fill_line(line: str, facts: TemplateFacts, missing: dict[str, None]) -> str:
    match = _LABELLED.match(line)
    if match:
        placeholders = list(_PLACEHOLDER.finditer(match["rest"]))
        value = facts.value_for(match["label"]) if placeholders else ""
        if value and len(placeholders) == 1 and match["rest"].strip() == placeholders[0].group(0):
            return f"{match['lead']}{match['label']}: {value}"
    for found in _PLACEHOLDER.finditer(line):
        missing.setdefault(found.group(1).strip(), None)
    return line
