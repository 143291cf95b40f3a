"""The ``compose_image`` step kind: change one service's image tag in a compose file.

Its runner is ``core/steps/compose_image.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import KindDef

if TYPE_CHECKING:
    from ...loader.nodes import MappedNode, NodeReader


@dataclass(frozen=True, slots=True)
class ComposeImageSpec:
    """Change one service's image tag in a compose file."""

    service: str
    tag: str
    file: str = "docker-compose.yml"
    allow_read_only: bool = False  # edit the file even when its owner has no write bit
    outside_workdir: bool = False  # the file may be outside the working directory


def read(r: NodeReader, m: MappedNode, what: str) -> ComposeImageSpec:
    """A compose_image step's keys."""
    return ComposeImageSpec(
        service=r.text(m, "service", what),
        tag=r.text(m, "tag", what),
        file=r.text(m, "file", what, "docker-compose.yml"),
        allow_read_only=r.boolean(m, "allow_read_only", what),
        outside_workdir=r.boolean(m, "outside_workdir", what),
    )


KIND = KindDef(
    name="compose_image",
    spec=ComposeImageSpec,
    keys=frozenset({"file", "service", "tag", "allow_read_only", "outside_workdir"}),
    required=("service", "tag"),
    read=read,
    runner=("compose_image", "ComposeImageRunner"),
)
