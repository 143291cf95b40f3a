"""Watch steps: run a command (``docker compose logs -f``) for a set time, streaming its output.

The engine runs a watch in the background while later steps go on; the runner
just runs it for ``duration`` seconds and then stops its process group.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..model import Step, StepKind
from .base import KindDef, StepContext, StepOutcome, StepRunner, frozen_map
from .shell import NOT_STRICT, command, format_timeout, run_command, step_cwd, step_env

if TYPE_CHECKING:
    from ..loader.nodes import MappedNode, NodeReader


# --- the kind: its spec, keys and reader ----------------------------------------


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


# --- the runner ------------------------------------------------------------------


class WatchRunner(StepRunner):
    """Passes when the command ran the whole duration or ended by itself with status 0."""

    kind = StepKind.WATCH

    async def run(self, step: Step, ctx: StepContext) -> StepOutcome:
        from ..events import StepStatus  # the event classes load when a step runs, not with a runbook

        spec = step.spec
        if not isinstance(spec, WatchSpec):
            return StepOutcome.failed(f"step {step.id} is not a watch step")
        span = format_timeout(spec.duration)
        result = await run_command(
            spec.command,
            cwd=step_cwd(ctx, spec.cwd),
            env=step_env(ctx, spec.env),
            on_line=ctx.output,
            on_lines=ctx.output_lines,
            timeout=spec.duration,
            timeout_reason=f"watch of {span} ended",
            strict=spec.strict,
        )
        data = {"elapsed": round(result.elapsed, 3), "duration": spec.duration}
        if result.error is not None:
            return StepOutcome(StepStatus.FAILED, result.error, data=data)
        if result.timed_out:
            return StepOutcome(StepStatus.PASSED, f"watched for {span}", data=data)
        after = format_timeout(round(result.elapsed, 1))
        if result.exit_code == 0:
            message = f"ended by itself with status 0 after {after}"
            return StepOutcome(StepStatus.PASSED, message, exit_code=0, data=data)
        message = f"{result.describe()} after {after}, before the {span} watch was over"
        return StepOutcome(StepStatus.FAILED, message, exit_code=result.exit_code, data=data)

    def describe(self, step: Step) -> str:
        spec = step.spec
        if not isinstance(spec, WatchSpec):
            return step.title
        strict = NOT_STRICT if not spec.strict else ""
        return f"watch for {format_timeout(spec.duration)}{strict}: {spec.command}"


KIND = KindDef(
    spec=WatchSpec,
    keys=frozenset({"command", "duration", "cwd", "env", "strict"}),
    required=("command", "duration"),
    read=read,
    describe=describe,
    runner=WatchRunner,
    shell=True,
)
