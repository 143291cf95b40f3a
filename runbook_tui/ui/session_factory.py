"""Building a live or drill session for the run screen (engine + journal + the UI's asker).

Also the blocking half of resume: reading a recorded journal back into a session.
Both are called off the event loop (a journal can hold a million lines).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.model import Procedure, Runbook

if TYPE_CHECKING:
    from ..core.drills.limits import DrillLimits
    from ..core.engine import Session

SessionFactory = Callable[[Runbook, Procedure, Any], "Session"]


def new_session(
    runbook: Runbook,
    procedure: Procedure,
    *,
    workdir: Path,
    drill: bool,
    ask: Any,
    env: Mapping[str, str] | None = None,
    limits: DrillLimits | None = None,
    params: Mapping[str, str] | None = None,
    param_sources: Mapping[str, str] | None = None,
    impact_started_at: float | None = None,
    roles: Mapping[str, str] | None = None,
) -> Session:
    """A Session writing to a fresh journal under the sessions folder.

    ``limits`` caps watch steps and http retries, in drills only (as ``run --drill`` does):
    a live session always waits as long as the runbook says.
    """
    from ..core.engine import Session, default_operator
    from ..core.worklock import lock_new_journal

    lock, journal = lock_new_journal(runbook.id, workdir, default_operator())
    return Session(
        runbook,
        procedure,
        workdir=workdir,
        mode="drill" if drill else "live",
        params=dict(params or {}),
        param_sources=param_sources,
        journal=journal,
        ask=ask,
        operator=default_operator(),
        env=env,
        limits=limits if drill else None,
        worklock=lock,
        impact_started_at=impact_started_at,
        roles=roles,
    )


def resume_session(
    journal: Path,
    runbook: Runbook,
    *,
    ask: Any,
    env: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
    param_sources: Mapping[str, str] | None = None,
    accept_damaged: bool = False,
) -> Session:
    """The recorded session rebuilt from ``journal`` (blocking); a running step becomes interrupted.

    Secrets were never journalled: they come from ``params`` or the parameter form asks again.
    ``accept_damaged``: resume past damaged lines (the engineer said so in a dialog).
    """
    from ..core.engine import Session, default_operator

    return Session.resume(
        journal,
        runbook,
        ask,
        operator=default_operator(),
        env=env,
        params=params,
        param_sources=param_sources,
        lock_workdir=True,
        accept_damaged=accept_damaged,
    )


def first_step_at(journal: Path) -> float | None:
    """When the session's first step started: the run screen's window clock counts from there."""
    from ..core.events import parse_iso_utc
    from ..core.journal.records import StreamStatus, iter_records

    # The first step starts a few lines in, so this reads the head of the journal only.
    records = iter_records(journal, StreamStatus())
    try:
        for record in records:
            if record.get("kind") == "step_started":
                with contextlib.suppress(KeyError, TypeError, ValueError):
                    return parse_iso_utc(str(record["at"]))
                return None
    finally:
        if isinstance(records, Generator):
            records.close()  # closes the file now, not when collected
    return None
