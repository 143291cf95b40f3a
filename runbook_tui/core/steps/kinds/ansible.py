"""The ``ansible`` step kind: a playbook file run against the step's targets (a fleet step).

Its runner is ``core/steps/ansible.py`` (ansible-runner is imported only when it runs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import KindDef

if TYPE_CHECKING:
    from ...loader.nodes import MappedNode, NodeReader


@dataclass(frozen=True, slots=True)
class AnsibleSpec:
    """Run an Ansible playbook file (a path relative to the runbook) against the step's targets."""

    playbook: str


def read(r: NodeReader, m: MappedNode, what: str) -> AnsibleSpec:
    """The playbook, made absolute against the runbook's folder (unless it uses a placeholder)."""
    playbook = r.text(m, "playbook", what).strip()
    if playbook and "{{" not in playbook and r.ctx.file and not Path(playbook).is_absolute():
        playbook = str((Path(r.ctx.file).parent / playbook).resolve())
    return AnsibleSpec(playbook=playbook)


KIND = KindDef(
    name="ansible",
    spec=AnsibleSpec,
    keys=frozenset({"playbook"}),
    required=("playbook", "targets"),
    read=read,
    runner=("ansible", "AnsibleRunner"),
    fleet=True,
)
