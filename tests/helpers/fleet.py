"""The three loopback SSH hosts the fleet tests run on (scripts/components.sh sshd-start).

``RBT_SSHD_INVENTORY`` names the inventory (scripts/test.sh exports it); by default
it is the one components.sh writes under /tmp/runbook-tui-sshd. Outside CI the
tests skip when no sshd answers; in CI they must run.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

DEFAULT_INVENTORY = Path(os.environ.get("RBT_SSHD_DIR", "/tmp/runbook-tui-sshd")) / "inventory.ini"
HOSTS = {"web1": "127.0.0.2", "web2": "127.0.0.3", "web3": "127.0.0.4"}
PORT = 2222


def inventory_path() -> Path:
    """Where the loopback hosts' inventory is."""
    return Path(os.environ.get("RBT_SSHD_INVENTORY") or DEFAULT_INVENTORY)


def sshd_problem() -> str | None:
    """Why the fleet tests cannot run here, or None when all three hosts answer."""
    inventory = inventory_path()
    if not inventory.is_file():
        return f"no inventory at {inventory}; run `bash scripts/components.sh sshd-start`"
    for name, address in HOSTS.items():
        try:
            with socket.create_connection((address, PORT), timeout=3) as conn:
                if not conn.recv(4).startswith(b"SSH-"):
                    return f"{name} ({address}:{PORT}) is not an ssh server"
        except OSError as exc:
            return f"no sshd on {address}:{PORT} for {name}: {exc}"
    return None


def fail_on(host: str) -> str:
    """A bash test true on ``host`` only: SSH_CONNECTION holds the address sshd was reached on."""
    return f'[[ "$SSH_CONNECTION" == *" {HOSTS[host]} "* ]]'
