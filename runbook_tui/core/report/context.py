"""What the runbook adds to a report when its file is still where the session found it.

The report never needs the runbook; when it is there, its checklist texts and its
communication templates (filled from the session) make the report easier to read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TemplateText:
    """A communication template filled from the session, with the fields still to edit."""

    template_id: str
    title: str
    text: str
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChecklistText:
    checklist_id: str
    title: str
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ReportContext:
    """Optional extras from the runbook file (empty when it is gone)."""

    templates: tuple[TemplateText, ...] = ()
    checklists: tuple[ChecklistText, ...] = ()
    runbook_changed: bool = False  # its sha256 differs from the one the session recorded


EMPTY = ReportContext()
