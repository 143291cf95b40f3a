"""After a drill: find the sessions it recorded and score them from their journals."""

from __future__ import annotations

from pathlib import Path

from ... import locations
from ..events import SessionStarted
from ..journal import JournalError, load
from .definition import Fault
from .score import DrillScore, score


def drill_sessions_since(runbook_id: str, since: float, folder: Path | None = None) -> list[Path]:
    """Journals of drill sessions of ``runbook_id`` started at or after ``since``, oldest first."""
    root = folder or locations.sessions_dir()
    if not root.is_dir():
        return []
    found: list[tuple[float, Path]] = []
    for path in root.glob(f"*-{runbook_id}-*.jsonl"):
        try:
            if path.stat().st_mtime < since:
                continue
            events = load(path).events
        except (OSError, JournalError):
            continue
        started = next((e for e in events if isinstance(e, SessionStarted)), None)
        if started and started.mode == "drill" and started.at >= since - 1:
            found.append((started.at, path))
    return [path for _, path in sorted(found)]


def score_journal(path: Path, fault: Fault | None = None) -> DrillScore:
    """The score of the session recorded in ``path``."""
    return score(load(path).events, fault)
