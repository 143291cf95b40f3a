"""The ``shell`` step kind: a bash command in its own process group, here or on a fleet.

Its runner is ``core/steps/shell.py`` (``core/fleet.py`` when the step has ``targets``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import KindDef, frozen_map

if TYPE_CHECKING:
    from ...loader.nodes import MappedNode, NodeReader


@dataclass(frozen=True, slots=True)
class ShellSpec:
    """Run ``command`` with bash in its own process group (``-e -o pipefail`` unless not ``strict``)."""

    command: str
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=frozen_map)
    expect_exit: int = 0
    strict: bool = True  # ``strict: false`` runs without -e/pipefail: a failed line does not stop it


def command(r: NodeReader, m: MappedNode, what: str) -> str:
    """The ``command`` key, which must not be blank (shell and watch steps)."""
    from yaml.nodes import ScalarNode  # the model imports this module; yaml only when loading

    text = r.text(m, "command", what)
    node = m.get("command")
    if node is not None and isinstance(node, ScalarNode) and not text.strip():
        r.ctx.error(node, f"'command' of {what} is empty")
    return text


def read(r: NodeReader, m: MappedNode, what: str) -> ShellSpec:
    """A shell step's keys."""
    return ShellSpec(
        command=command(r, m, what),
        cwd=r.opt_text(m, "cwd", what),
        env=r.text_map(m, "env", what),
        expect_exit=r.integer(m, "expect_exit", what, 0) or 0,
        strict=r.boolean(m, "strict", what, True),
    )


def describe(spec: ShellSpec) -> str | None:
    """The command (None when empty: the title)."""
    return spec.command or None


KIND = KindDef(
    name="shell",
    spec=ShellSpec,
    keys=frozenset({"command", "cwd", "env", "expect_exit", "strict"}),
    required=("command",),
    read=read,
    describe=describe,
    runner=("shell", "ShellRunner"),
    fleet=True,
    shell=True,
)
