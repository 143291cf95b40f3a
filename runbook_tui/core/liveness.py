"""Whether a process named in a file (a workdir lock, a session's inbox owner) still runs here."""

from __future__ import annotations

import os
import socket


def alive_here(host: str, pid: int) -> bool | None:
    """Whether process ``pid`` of ``host`` runs; None when this host cannot tell (another host, no pid)."""
    if host != socket.gethostname() or pid <= 0:
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another account's process: it exists
        return True
    return True
