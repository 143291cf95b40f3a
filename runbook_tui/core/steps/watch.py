"""Watch steps: run a command (``docker compose logs -f``) for a set time, streaming its output.

The engine runs a watch in the background while later steps go on; the runner
just runs it for ``duration`` seconds and then stops its process group.
"""

from __future__ import annotations

from ..events import StepStatus
from ..model import Step, StepKind, WatchSpec
from .base import StepContext, StepOutcome, StepRunner
from .shell import NOT_STRICT, format_timeout, run_command, step_cwd, step_env


class WatchRunner(StepRunner):
    """Passes when the command ran the whole duration or ended by itself with status 0."""

    kind = StepKind.WATCH

    async def run(self, step: Step, ctx: StepContext) -> StepOutcome:
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
