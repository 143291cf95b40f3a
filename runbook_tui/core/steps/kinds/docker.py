"""The ``docker`` step kind: an image's tags, a container's state, a restart, recent logs.

Its runner is ``core/steps/docker.py`` (the Docker SDK is imported only there).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from . import KindDef

if TYPE_CHECKING:
    from ...loader.nodes import MappedNode, NodeReader


class DockerAction(StrEnum):
    TAGS = "tags"
    STATE = "state"
    RESTART = "restart"
    LOGS = "logs"


@dataclass(frozen=True, slots=True)
class DockerSpec:
    """A Docker Engine action: list an image's tags, a container's state, restart, logs."""

    action: DockerAction
    image: str | None = None
    container: str | None = None
    since: float | None = None
    tail: int = 200
    # Which engine: ``ssh://user@host[:port]`` (through the system ssh client) or None:
    # ``DOCKER_HOST`` from the session's environment, else the local socket.
    docker_host: str | None = None


DOCKER_HOST_SCHEMES = ("ssh://", "unix://", "tcp://")


def read(r: NodeReader, m: MappedNode, what: str) -> DockerSpec | None:
    """A docker step's keys; ``tags`` needs an image, the other actions a container."""
    action = r.choice(m, "action", what, DockerAction)
    if action is None:
        return None
    needs = "image" if action is DockerAction.TAGS else "container"
    if needs not in m:
        r.ctx.error(m.node, f"{what} (action {action.value}) is missing {needs!r}")
    tail = r.integer(m, "tail", what, 200)
    docker_host = r.opt_text(m, "docker_host", what)
    if docker_host is not None and not docker_host.startswith(DOCKER_HOST_SCHEMES):
        r.ctx.error(
            m.node,
            f"{what}: docker_host {docker_host!r} is not an engine address; "
            "write ssh://user@host[:port] (or unix:///path, tcp://host:port)",
        )
    return DockerSpec(
        action=action,
        image=r.opt_text(m, "image", what),
        container=r.opt_text(m, "container", what),
        since=r.duration(m, "since", what),
        tail=200 if tail is None else tail,
        docker_host=docker_host,
    )


KIND = KindDef(
    name="docker",
    spec=DockerSpec,
    keys=frozenset({"action", "image", "container", "since", "tail", "docker_host"}),
    required=("action",),
    read=read,
    runner=("docker", "DockerRunner"),
)
