"""Finding and summarising recorded sessions without reading whole journals.

A session's journal can hold a million output lines, so a summary reads only the
head (header and ``session_started``) and a bounded tail (the last events, where
``session_finished`` lives). Listing hundreds of sessions stays fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import locations
from .errors import RunbookTuiError
from .journal.records import read_head_and_tail
from .timestamps import parse_iso_utc

TAIL_BYTES = 64 * 1024
HEAD_LINE_LIMIT = 1024 * 1024
UNFINISHED = "unfinished"
SUFFIX = ".jsonl"


class SessionNotFound(RunbookTuiError):
    """A session reference matched no session, or more than one."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One recorded session as the list shows it."""

    id: str
    runbook: str
    runbook_title: str
    procedure: str
    procedure_title: str
    mode: str
    operator: str
    started: float
    finished: float | None
    duration: float | None  # up to the last recorded event while unfinished
    outcome: str  # succeeded, failed, aborted or unfinished
    path: Path
    torn: bool
    runbook_path: str = ""
    runbook_sha256: str = ""
    app_version: str = ""

    @property
    def is_finished(self) -> bool:
        return self.outcome != UNFINISHED

    def matches(self, text: str) -> bool:
        """Whether ``text`` occurs (case-insensitively) in id, runbook, procedure, operator or outcome."""
        needle = text.lower()
        fields = (self.id, self.runbook, self.runbook_title, self.procedure, self.procedure_title)
        return any(needle in value.lower() for value in (*fields, self.operator, self.outcome, self.mode))


def list_sessions(directory: Path | None = None) -> list[SessionSummary]:
    """Every session journal in ``directory`` (default: the sessions folder), newest first."""
    folder = directory if directory is not None else locations.sessions_dir()
    try:
        paths = [p for p in folder.iterdir() if p.name.endswith(SUFFIX) and p.is_file()]
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise SessionNotFound(f"{folder}: cannot list sessions ({exc.strerror})") from exc
    summaries = [summary for summary in map(_summary_or_none, paths) if summary is not None]
    summaries.sort(key=lambda s: (s.started, s.id), reverse=True)
    return summaries


def summarise(path: Path) -> SessionSummary:
    """The summary of one journal, read from its head and a bounded tail."""
    ends = read_head_and_tail(path, TAIL_BYTES, HEAD_LINE_LIMIT)
    started_event = ends.first if ends.first.get("kind") == "session_started" else {}
    records = [r for r in ends.last if "kind" in r and "at" in r]
    torn = ends.torn or not ends.header
    return _build(path, ends.header, started_event, records, torn)


def find_session(ref: str, directory: Path | None = None) -> Path:
    """The journal for ``ref``: a path, a full session id, or a unique prefix (else part) of one."""
    as_path = Path(ref).expanduser()
    if os.sep in ref or ref.endswith(SUFFIX):
        if as_path.is_file():
            return as_path
        if os.sep in ref:
            raise SessionNotFound(f"{ref}: no such session journal; give a session id or an existing file")
    folder = directory if directory is not None else locations.sessions_dir()
    ids = _session_ids(folder)
    key = ref.removesuffix(SUFFIX)
    if key in ids:
        return folder / f"{key}{SUFFIX}"
    matches = sorted((i for i in ids if i.startswith(key)), reverse=True)
    if not matches:
        # Then any unique part of the id, such as its runbook or its 4-hex suffix.
        matches = sorted((i for i in ids if key in i), reverse=True)
    if len(matches) == 1:
        return folder / f"{matches[0]}{SUFFIX}"
    if matches:
        shown = "\n  ".join(matches[:10]) + ("\n  ..." if len(matches) > 10 else "")
        raise SessionNotFound(f"{ref!r} matches {len(matches)} sessions; give more of the id:\n  {shown}")
    recent = sorted(ids, reverse=True)[:5]
    hint = ("; recent sessions:\n  " + "\n  ".join(recent)) if recent else f"; there are none in {folder}"
    raise SessionNotFound(f"no session {ref!r} (see 'runbook-tui sessions'){hint}")


def latest_unfinished(directory: Path | None = None) -> SessionSummary | None:
    """The newest session that has no ``session_finished`` yet, if any."""
    return next((s for s in list_sessions(directory) if not s.is_finished), None)


def to_json(summary: SessionSummary) -> dict[str, Any]:
    """The ``sessions --json`` object for one session."""
    return {
        "id": summary.id,
        "runbook": summary.runbook,
        "runbook_title": summary.runbook_title,
        "procedure": summary.procedure,
        "procedure_title": summary.procedure_title,
        "mode": summary.mode,
        "operator": summary.operator,
        "started": _iso(summary.started),
        "finished": _iso(summary.finished) if summary.finished is not None else None,
        "duration_seconds": round(summary.duration, 3) if summary.duration is not None else None,
        "outcome": summary.outcome,
        "torn": summary.torn,
        "runbook_path": summary.runbook_path,
        "runbook_sha256": summary.runbook_sha256,
        "app_version": summary.app_version,
        "path": str(summary.path),
    }


# --- reading ---------------------------------------------------------------


def _summary_or_none(path: Path) -> SessionSummary | None:
    try:
        return summarise(path)
    except OSError:
        return None  # vanished or unreadable between listing and reading; not ours to show


def _session_ids(folder: Path) -> list[str]:
    try:
        return [p.name.removesuffix(SUFFIX) for p in folder.iterdir() if p.name.endswith(SUFFIX)]
    except OSError:
        return []


def _build(
    path: Path,
    header: dict[str, Any],
    started: dict[str, Any],
    tail: list[dict[str, Any]],
    torn: bool,
) -> SessionSummary:
    session_id = str(started.get("session_id") or header.get("session_id") or path.name.removesuffix(SUFFIX))
    start_at = _time(started.get("at")) or _time_from_id(session_id) or path.stat().st_mtime
    outcome, finished, duration = UNFINISHED, None, None
    lifecycle = [r for r in tail if r["kind"] in ("session_finished", "session_resumed")]
    if lifecycle and lifecycle[-1]["kind"] == "session_finished":
        last = lifecycle[-1]
        outcome = str(last.get("outcome") or UNFINISHED)
        finished = _time(last.get("at"))
        duration = _number(last.get("duration"))
    if duration is None and tail:
        last_at = _time(tail[-1].get("at"))
        duration = max(0.0, last_at - start_at) if last_at is not None else None
    return SessionSummary(
        id=session_id,
        runbook=str(started.get("runbook_id", "")),
        runbook_title=str(started.get("runbook_title", "")),
        procedure=str(started.get("procedure_id", "")),
        procedure_title=str(started.get("procedure_title", "")),
        mode=str(started.get("mode", "")),
        operator=str(started.get("operator", "")),
        started=start_at,
        finished=finished,
        duration=duration,
        outcome=outcome,
        path=path,
        torn=torn,
        runbook_path=str(started.get("runbook_path", "")),
        runbook_sha256=str(started.get("runbook_sha256", "")),
        app_version=str(started.get("app_version") or header.get("version") or ""),
    )


def _time(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_iso_utc(value)
    except ValueError:
        return None


def _time_from_id(session_id: str) -> float | None:
    try:
        return datetime.strptime(session_id[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _iso(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
