"""What a drill needs from this machine: tools on PATH, a Docker Engine, free ports."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterable

_TOOL_HINTS = {
    "cargo": "install Rust with rustup (https://rustup.rs)",
    "git": "install git",
    "gpg": "install gnupg (Debian: apt-get install gnupg)",
    "sqlite3": "install the sqlite3 command line tool",
    "perl": "install perl",
    "curl": "install curl",
    "python3": "install Python 3",
}


def docker_problem(timeout: float = 5.0) -> str | None:
    """Why no Docker Engine can be used, or None when one answers a ping."""
    try:
        import docker
        from docker.errors import DockerException
    except ImportError:  # pragma: no cover - docker is a dependency
        return "the docker Python package is not installed"
    try:
        client = docker.from_env(timeout=int(max(timeout, 1)))
        try:
            client.ping()
        finally:
            client.close()
    except DockerException as exc:
        return f"no Docker Engine answered ({exc}); start Docker or set DOCKER_HOST"
    if shutil.which("docker") is None:
        return "the docker command line is not on PATH; install the Docker CLI with Compose v2"
    return None


def missing_tools(requires: Iterable[str]) -> list[str]:
    """One line per required tool that is not on PATH, saying how to get it."""
    return [
        f"{tool} is not on PATH: {_TOOL_HINTS.get(tool, 'install it')}"
        for tool in requires
        if tool != "docker" and shutil.which(tool) is None
    ]


def busy_ports(ports: Iterable[int]) -> list[int]:
    """The ports something already listens on (127.0.0.1 or ::1)."""
    return [port for port in ports if _listening(port)]


def _listening(port: int) -> bool:
    for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        try:
            with socket.socket(family, socket.SOCK_STREAM) as sock:
                sock.settimeout(0.3)
                if sock.connect_ex((host, port)) == 0:
                    return True
        except OSError:
            continue
    return False
