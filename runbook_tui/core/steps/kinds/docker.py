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


def read(r: NodeReader, m: MappedNode, what: str) -> DockerSpec | None:
    """A docker step's keys; ``tags`` needs an image, the other actions a container."""
    action = r.choice(m, "action", what, DockerAction)
    if action is None:
        return None
    needs = "image" if action is DockerAction.TAGS else "container"
    if needs not in m:
        r.ctx.error(m.node, f"{what} (action {action.value}) is missing {needs!r}")
    tail = r.integer(m, "tail", what, 200)
    return DockerSpec(
        action=action,
        image=r.opt_text(m, "image", what),
        container=r.opt_text(m, "container", what),
        since=r.duration(m, "since", what),
        tail=200 if tail is None else tail,
    )


KIND = KindDef(
    name="docker",
    spec=DockerSpec,
    keys=frozenset({"action", "image", "container", "since", "tail"}),
    required=("action",),
    read=read,
    runner=("docker", "DockerRunner"),
)
