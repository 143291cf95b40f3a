"""The post-incident record of a session, computed from its journal alone.

One streaming pass over the journal builds everything the report formats need:
the timeline (oldest first, UTC and time since start), each step attempt with its
duration and the tail of its output, skips, edits, notes, templates, checklist
ticks and the time metrics. Output lines are never kept beyond a short tail per
attempt, so a session with millions of lines reports in bounded memory.

This module is the public face: it reads the journal and hands its lines to the
fold. The parts live beside it: ``model`` (the report's shape), ``fold`` (the
single pass), ``wording`` (the sentences) and ``metrics`` (the time metrics).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..journal.records import StreamStatus, iter_lines
from .fold import ReportFold
from .model import Report, format_offset

# What callers outside core/report import; the parts are imported from their own modules.
__all__ = ["Report", "build_report", "build_report_from", "chain_summary", "format_offset"]


def build_report(path: Path) -> Report:
    """Stream the journal at ``path`` once and compute its report."""
    status = StreamStatus()
    builder = ReportFold()
    builder.feed_lines(iter_lines(path, status))
    report = builder.finish(str(path), status)
    return dataclasses.replace(report, chain=chain_summary(path, report.header))


def chain_summary(path: Path, header: dict[str, Any]) -> dict[str, Any]:
    """The journal's head hash and key fingerprint (read from its ends; ``verify`` checks the rest)."""
    from ..journal import chain as journal_chain

    if not journal_chain.is_chained(header):
        return {"status": "unchained", "head": None, "lines": None, "key_fingerprint": None, "message": None}
    try:
        last = journal_chain.last_line(path)
    except OSError:
        last = None
    parts = journal_chain.split(last) if last else None
    head = parts[2].decode() if parts is not None else None
    return {
        "status": "chained",
        "head": head,
        "lines": None,
        "key_fingerprint": str(header["chain"].get("key", "")),
        "message": f"runbook-tui verify {header.get('session_id', path.stem)} checks every line against it",
    }


def build_report_from(records: Iterable[dict[str, Any]], status: StreamStatus | None = None) -> Report:
    """The report of already-read journal records (event dicts as ``events.to_dict`` makes them)."""
    builder = ReportFold()
    builder.feed(records)
    return builder.finish("", status or StreamStatus())
