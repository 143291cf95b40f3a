"""The ``watch`` step kind: a command that runs in the background while later steps go on.

Its runner is ``core/steps/watch.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import KindDef, frozen_map
from .shell import command

if TYPE_CHECKING:
    from ...loader.nodes import MappedNode, NodeReader


@dataclass(frozen=True, slots=True)
class WatchSpec:
    """Run ``command`` for ``duration`` seconds in the background while later steps go on."""

    command: str
    duration: float
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=frozen_map)
    strict: bool = True  # as for shell steps


def read(r: NodeReader, m: MappedNode, what: str) -> WatchSpec:
    """A watch step's keys."""
    return WatchSpec(
        command=command(r, m, what),
        duration=r.duration(m, "duration", what) or 0.0,
        cwd=r.opt_text(m, "cwd", what),
        env=r.text_map(m, "env", what),
        strict=r.boolean(m, "strict", what, True),
    )


def describe(spec: WatchSpec) -> str | None:
    """The command (None when empty: the title)."""
    return spec.command or None


KIND = KindDef(
    name="watch",
    spec=WatchSpec,
    keys=frozenset({"command", "duration", "cwd", "env", "strict"}),
    required=("command", "duration"),
    read=read,
    describe=describe,
    runner=("watch", "WatchRunner"),
    shell=True,
)
