"""The ``manual`` step kind: a checklist item the engineer ticks (the engine runs it, no runner)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .base import KindDef

if TYPE_CHECKING:
    from ..loader.nodes import MappedNode, NodeReader


@dataclass(frozen=True, slots=True)
class ManualSpec:
    """A checklist item the engineer ticks, optionally with a note."""

    instructions: str = ""


def read(r: NodeReader, m: MappedNode, what: str) -> ManualSpec:
    """A manual step's instructions (optional)."""
    return ManualSpec(instructions=r.text(m, "instructions", what))


def describe(spec: ManualSpec) -> str | None:
    """The instructions (None when empty: the title)."""
    return spec.instructions or None


KIND = KindDef(spec=ManualSpec, keys=frozenset({"instructions"}), read=read, describe=describe)
