"""The ``confirm`` step kind: a gate before a destructive step (the engine runs it, no runner)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .base import KindDef

if TYPE_CHECKING:
    from ..loader.nodes import MappedNode, NodeReader


@dataclass(frozen=True, slots=True)
class ConfirmSpec:
    """A gate before a destructive step, naming what will happen."""

    message: str


def read(r: NodeReader, m: MappedNode, what: str) -> ConfirmSpec:
    """The message the gate shows."""
    return ConfirmSpec(message=r.text(m, "message", what))


def describe(spec: ConfirmSpec) -> str:
    """The message the gate shows (even when empty, as the screens always did)."""
    return spec.message


KIND = KindDef(
    spec=ConfirmSpec,
    keys=frozenset({"message"}),
    required=("message",),
    read=read,
    describe=describe,
)
