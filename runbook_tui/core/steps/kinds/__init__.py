"""What each step kind is, apart from how it runs: one module per kind.

A kind module holds the kind's spec dataclass, the YAML keys it takes, how the
loader reads them into the spec, and the one-line description the screens show.
It imports nothing heavy (no runner, no docker SDK, no httpx, no model), so the
model can re-export the specs and the loader can read every kind without paying
for the runners. The runner of a kind is a separate module under ``core/steps/``
that the registry imports only when a step of that kind runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...loader.nodes import MappedNode, NodeReader


def frozen_map(value: Mapping[str, str] | None = None) -> Mapping[str, str]:
    """A read-only copy of ``value`` (the default of a spec's mapping fields)."""
    return MappingProxyType(dict(value or {}))


SpecReader = Callable[["NodeReader", "MappedNode", str], Any]


def no_description(_spec: Any) -> str | None:
    """A kind without a text of its own: the screens show the step's title."""
    return None


@dataclass(frozen=True, slots=True)
class KindDef:
    """One step kind as the loader and the screens see it.

    ``keys`` are the kind's own keys (the generic step keys are the loader's);
    ``read`` builds the spec from a checked mapping, reporting problems through
    the reader, and returns None when the step cannot be built. ``describe``
    gives the text shown for a step before it runs (None: its title).
    ``runner`` names the module (under ``core/steps/``) and class that run it,
    or None when the engine handles the kind itself (manual, confirm).
    ``fleet``: the kind also takes the fleet keys (targets, serial, ...).
    ``shell``: its ``command`` and ``env`` get the loader's shell checks.
    """

    name: str
    spec: type
    keys: frozenset[str]
    read: SpecReader
    required: tuple[str, ...] = ()
    describe: Callable[[Any], str | None] = no_description
    runner: tuple[str, str] | None = None
    fleet: bool = False
    shell: bool = False
