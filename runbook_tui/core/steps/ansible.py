"""The ``ansible`` step kind: a playbook file run against a host pattern through ansible-runner.

The playbook runs as written (its roles, files and includes resolve from its own
folder), limited to the hosts ``targets`` matches, after the same ``max_hosts``
check as a shell step with targets. ``become`` and ``forks`` apply from the
step; ``serial`` and ``max_fail_percentage`` are play keywords, so they belong in
the playbook's plays (the loader says so when a step sets them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ..model import Step, StepKind
from .base import KindDef, StepContext, StepOutcome

if TYPE_CHECKING:
    from ..loader.nodes import MappedNode, NodeReader
    from .base import StepRunner


# --- the kind: its spec, keys and reader ----------------------------------------


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


# --- the runner ------------------------------------------------------------------


def runner() -> StepRunner:
    """The ansible runner, built when an ansible step is planned or run.

    It stands on ``core/fleet.py`` (ansible-runner's thread, the per-host events), which
    a runbook's loading has no use for: the registry imports every kind module to read
    runbooks, so the fleet is imported here, on first use, not at the top.
    """
    from ..fleet import FleetError, FleetRunnerBase, announce, run_fleet

    class AnsibleRunner(FleetRunnerBase):
        """Runs a playbook file on the hosts ``targets`` matches; one result per host."""

        kind: ClassVar[StepKind] = StepKind.ANSIBLE

        def describe(self, step: Step) -> str:
            spec = step.spec
            playbook = spec.playbook if isinstance(spec, AnsibleSpec) else step.title
            if step.fleet is None:
                return f"ansible-playbook {playbook}"
            return self.describe_hosts(step, f"ansible-playbook {playbook}")

        async def run(self, step: Step, ctx: StepContext) -> StepOutcome:
            spec = step.spec
            fleet = step.fleet
            if not isinstance(spec, AnsibleSpec) or fleet is None:
                raise FleetError(f"ansible step {step.id!r} needs 'playbook' and 'targets'")
            playbook = Path(spec.playbook)
            if not playbook.is_absolute():
                playbook = ctx.workdir / playbook
            if not playbook.is_file():
                raise FleetError(
                    f"the playbook {playbook} does not exist; 'playbook' is relative to the runbook"
                )
            plan = await self.plan(step, fleet, ctx)
            announce(ctx, fleet, plan)
            return await run_fleet(
                step, fleet, ctx, plan=plan, playbook_file=str(playbook.resolve()), finish_per_task=False
            )

    return AnsibleRunner()


KIND = KindDef(
    spec=AnsibleSpec,
    keys=frozenset({"playbook"}),
    required=("playbook", "targets"),
    read=read,
    runner=runner,
    fleet=True,
)
