"""Tables: decision tables become the decision matrix; alert thresholds, roles and contacts
become their lists. The matrix rows are linked to procedures and health checks at the end."""

from __future__ import annotations

import re
from typing import Any

from .blocks import Table
from .drafts import Context, Entry, MatrixDraft, ProcedureDraft, RunbookDraft
from .text import slug, strip_md, unique

_DEADLINE = re.compile(
    r"\b(?:in|within|after)\s+(\d+\s*(?:s|sec|seconds?|m|min|mins|minutes?|h|hours?))\b", re.I
)
_HEALTH_STATUS = re.compile(r"(/[^\s`]*health[^\s`]*)`?\s+returns\s+(\d{3})", re.I)
_ISSUE = ("issue", "signal", "problem", "symptom", "trigger", "condition")
_ACTION = ("action", "response", "what to do", "remediation")
_STOP_WORDS = {
    "rollback",
    "roll",
    "back",
    "the",
    "a",
    "via",
    "if",
    "not",
    "with",
    "to",
    "and",
    "or",
    "in",
    "of",
}


def read_table(table: Table, draft: RunbookDraft, ctx: Context) -> bool:
    """Put a table where it belongs in ``draft``; False when it is none of the known kinds."""
    head = [h.lower() for h in table.header]
    if _is_decision_table(head):
        _add_to_matrix(table, draft, ctx)
        return True
    if _col(head, "metric") is not None and _col(head, "warning", "critical", "threshold") is not None:
        draft.out["alert_thresholds"].extend(_thresholds(table, head))
        ctx.note(table.line, "alert thresholds")
        return True
    if _col(head, "role") is not None and _col(head, "contact", "name") is not None:
        draft.out["contacts"].extend(_people(table, head))
        ctx.note(table.line, "contacts")
        return True
    if _col(head, "role") is not None and _col(head, "responsib") is not None:
        draft.out["roles"].extend(_people(table, head))
        ctx.note(table.line, "roles")
        return True
    return False


def _is_decision_table(head: list[str]) -> bool:
    actions = _col(head, *_ACTION) is not None
    warn_crit = _col(head, "warning") is not None and _col(head, "critical") is not None
    return actions and (
        _col(head, *_ISSUE) is not None or (_col(head, "metric", "alert") is not None and not warn_crit)
    )


def _thresholds(table: Table, head: list[str]) -> list[Entry]:
    return [
        Entry(
            line,
            {
                "metric": _cell(row, _col(head, "metric")),
                "warning": _cell(row, _col(head, "warning")),
                "critical": _cell(row, _col(head, "critical")),
                "action": _cell(row, _col(head, "action")),
            },
        )
        for row, line in zip(table.rows, table.row_lines, strict=False)
    ]


def _people(table: Table, head: list[str]) -> list[Entry]:
    people = []
    for row, line in zip(table.rows, table.row_lines, strict=False):
        fields = {"role": _cell(row, _col(head, "role"))}
        for name, col in (
            ("responsibilities", _col(head, "responsib")),
            ("name", _col(head, "name")),
            ("contact", _col(head, "contact")),
        ):
            if col is not None:
                fields[name] = _cell(row, col)
        people.append(Entry(line, fields))
    return people


def _add_to_matrix(table: Table, draft: RunbookDraft, ctx: Context) -> None:
    """A decision table's rows; a second decision table adds its rows to the first one's."""
    rows = _matrix_rows(table)
    if draft.matrix is None:
        draft.matrix = MatrixDraft(table.line, list(table.header), [])
    taken = {r.fields["id"] for r in draft.matrix.rows}
    for row in rows:
        row.fields["id"] = unique(row.fields["id"], taken)
        taken.add(row.fields["id"])
    draft.matrix.rows.extend(rows)
    ctx.note(table.line, f"decision matrix ({len(draft.matrix.rows)} rows)")


def _matrix_rows(table: Table) -> list[Entry]:
    head = [h.lower() for h in table.header]
    issue_col = _col(head, *_ISSUE, "metric", "alert") or 0
    action_col = _col(head, *_ACTION)
    optional = (
        ("threshold", _col(head, "threshold", "condition", "value", "limit")),
        ("severity", _col(head, "severity")),
        ("impact", _col(head, "impact")),
    )
    rows = []
    for row, line in zip(table.rows, table.row_lines, strict=False):
        issue = strip_md(_cell(row, issue_col))
        action = _cell(row, action_col) or "(no action written)"
        fields: dict[str, Any] = {"id": slug(issue), "issue": issue, "action": action}
        for name, col in optional:
            if col is not None and _cell(row, col):
                fields[name] = _cell(row, col)
        deadline = _DEADLINE.search(action)
        if deadline:
            fields["deadline"] = deadline.group(1)
        rows.append(Entry(line, fields))
    return rows


def link_matrix(matrix: MatrixDraft | None, procedures: list[ProcedureDraft]) -> None:
    """Each row's procedure (named by its action) and health check (``/health returns 503``)."""
    if matrix is None:
        return
    health_urls = [
        s.fields["url"]
        for p in procedures
        for s in p.fields["steps"] + p.fields.get("verification", [])
        if s.fields["kind"] == "http"
    ]
    for row in matrix.rows:
        fields = row.fields
        proc = _best_procedure(fields["action"], procedures)
        if proc:
            fields["procedure"] = proc
        status = _HEALTH_STATUS.search(fields.get("threshold", "") + " " + fields["issue"])
        if status:
            url = next((u for u in health_urls if u.endswith(status.group(1))), None)
            if url:
                fields["signal"] = {"url": url, "expect_status": int(status.group(2))}


def _best_procedure(action: str, procedures: list[ProcedureDraft]) -> str | None:
    words = set(re.findall(r"[a-z]+", action.lower())) - _STOP_WORDS
    best, score, tied = None, 0, False
    for proc in procedures:
        title_words = set(re.findall(r"[a-z]+", proc.title.lower())) - _STOP_WORDS
        overlap = len(words & title_words)
        if overlap > score and overlap >= max(1, len(words) // 2):
            best, score, tied = proc.id, overlap, False
        elif overlap == score and best is not None:
            tied = True  # names several procedures equally (alternatives): link none
    return None if tied else best


def _col(head: list[str], *names: str) -> int | None:
    for i, h in enumerate(head):
        if any(name in h for name in names):
            return i
    return None


def _cell(row: list[str], col: int | None) -> str:
    return row[col] if col is not None and col < len(row) else ""
