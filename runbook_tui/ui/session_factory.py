"""Building a live or drill session for the run screen (engine + journal + the UI's asker)."""

from __future__ import annotations

import getpass
import socket
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.model import Procedure, Runbook

if TYPE_CHECKING:
    from ..core.engine import Session

SessionFactory = Callable[[Runbook, Procedure, Any], "Session"]


def operator() -> str:
    """``user@host``, as the journal records who ran the session."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def new_session(
    runbook: Runbook,
    procedure: Procedure,
    *,
    workdir: Path,
    drill: bool,
    ask: Any,
    env: Mapping[str, str] | None = None,
) -> Session:
    """A Session writing to a fresh journal under the sessions folder."""
    from ..core.engine import Session
    from ..core.journal import Journal, new_session_id

    journal = Journal.create(new_session_id(runbook.id))
    return Session(
        runbook,
        procedure,
        workdir=workdir,
        mode="drill" if drill else "live",
        params={},
        journal=journal,
        ask=ask,
        operator=operator(),
        env=env,
    )
