"""The ``cargo_features`` step kind: change ``[features] default`` in a Cargo.toml.

Its runner is ``core/steps/cargo_features.py`` (tomlkit is imported only there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import KindDef

if TYPE_CHECKING:
    from ...loader.nodes import MappedNode, NodeReader


@dataclass(frozen=True, slots=True)
class CargoFeaturesSpec:
    """Change ``[features] default`` in a Cargo.toml: ``remove`` and ``add`` entries, or ``set`` it."""

    file: str = "Cargo.toml"
    remove: tuple[str, ...] = ()
    add: tuple[str, ...] = ()
    set: tuple[str, ...] | None = None
    allow_read_only: bool = False  # edit the file even when its owner has no write bit
    outside_workdir: bool = False  # the file may be outside the working directory


def read(r: NodeReader, m: MappedNode, what: str) -> CargoFeaturesSpec:
    """A cargo_features step's keys: ``set`` alone, or ``add``/``remove``."""
    if not any(key in m.values for key in ("remove", "add", "set")):
        r.ctx.error(m.node, f"{what} needs 'remove', 'add' or 'set' (the features to change)")
    if "set" in m.values and any(key in m for key in ("remove", "add")):
        r.ctx.error(m.keys["set"], f"{what}: use 'set' alone, or 'add'/'remove', not both")
    return CargoFeaturesSpec(
        file=r.text(m, "file", what, "Cargo.toml"),
        remove=r.text_list(m, "remove", what),
        add=r.text_list(m, "add", what),
        set=r.text_list(m, "set", what) if "set" in m.values else None,
        allow_read_only=r.boolean(m, "allow_read_only", what),
        outside_workdir=r.boolean(m, "outside_workdir", what),
    )


KIND = KindDef(
    name="cargo_features",
    spec=CargoFeaturesSpec,
    keys=frozenset({"file", "remove", "add", "set", "allow_read_only", "outside_workdir"}),
    read=read,
    runner=("cargo_features", "CargoFeaturesRunner"),
)
