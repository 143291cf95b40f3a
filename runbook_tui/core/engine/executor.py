"""Running one step: its parameters, its gate, its runner, and the events of its start and end.

The :class:`Executor` owns the running steps (one asyncio task each) and everything
that happens inside one: asking for the parameters it uses, the gate (``confirm``,
``destructive``, every file edit asks the :class:`~..asker.Asker` first), the runner
with a timeout, carried variables and captures, and the ``step_started`` /
``step_finished`` pair. Whether a step may run at all (the session started, not
finished) is the session's to say.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import carry
from .. import events as ev
from ..asker import Asker, ConfirmRequest, asker_name
from ..edits import PlannedWrite
from ..errors import ParameterError, RunbookTuiError, UsageError
from ..events import Phase, StepStatus
from ..model import ConfirmSpec, HttpSpec, Procedure, ShellSpec, Step, StepKind, WatchSpec
from ..steps.base import StepOutcome, StepRunner
from ..steps.registry import runner_for_step
from .emitter import Emitter, now
from .parameters import CarriedVariables, Parameters
from .resume import settle_planned_edits

if TYPE_CHECKING:
    from ..drills.limits import DrillLimits

log = logging.getLogger(__name__)

TIMEOUT_GRACE = 15.0  # runners enforce step.timeout themselves; this only catches one that does not


class StepPlan:
    """Every step of a procedure in the order it runs: pre-checks, steps, verification."""

    def __init__(self, procedure: Procedure) -> None:
        self._procedure_id = procedure.id
        self._plan: list[tuple[Step, Phase]] = [
            *((s, Phase.PRECHECK) for s in procedure.prechecks),
            *((s, Phase.STEP) for s in procedure.steps),
            *((s, Phase.VERIFICATION) for s in procedure.verification),
        ]
        self._by_id = {s.id: (s, phase) for s, phase in self._plan}

    def __iter__(self) -> Iterator[tuple[Step, Phase]]:
        return iter(self._plan)

    def ids(self) -> list[str]:
        return [s.id for s, _ in self._plan]

    def lookup(self, step_id: str) -> tuple[Step, Phase]:
        """The step and its phase; a UsageError naming the known steps when there is none."""
        try:
            return self._by_id[step_id]
        except KeyError:
            known = ", ".join(self._by_id)
            raise UsageError(
                f"procedure {self._procedure_id!r} has no step {step_id!r} (steps: {known})"
            ) from None


@dataclasses.dataclass(frozen=True, slots=True)
class Surroundings:
    """Where and how steps run: the session's settings a runner's context carries."""

    workdir: Path
    env: Mapping[str, str]
    drill: bool
    backup_dir: Path
    # A drill's caps on watch steps and http retries, so a practice run does not wait them
    # out; None in live sessions.
    limits: DrillLimits | None


class _Context:
    """The :class:`~..steps.base.StepContext` a runner gets: where, with what, and its output sink."""

    __slots__ = (
        "_emit_line",
        "_emit_lines",
        "_executor",
        "_step_id",
        "backup_dir",
        "drill",
        "emit",
        "env",
        "host_results",
        "params",
        "workdir",
    )

    def __init__(self, executor: Executor, step_id: str, env: Mapping[str, str] | None = None) -> None:
        where = executor.where
        emitter = executor.emitter
        self.workdir = where.workdir
        self.env: Mapping[str, str] = where.env if env is None else env
        self.drill = where.drill
        self.backup_dir = where.backup_dir
        self._step_id = step_id
        self._executor = executor
        self._emit_line = emitter.output
        self._emit_lines = emitter.output_lines
        # Fleet steps (core/fleet.py): per-host events, the parameters for the task's
        # environment, and each host's result so far (a retry runs only the unfinished).
        self.emit: Callable[[ev.Event], None] = emitter.emit
        self.params: Mapping[str, str] = executor.params.values()
        earlier = emitter.state.step(step_id)
        # Running a passed step again means every host again; otherwise only those not done.
        self.host_results = earlier.hosts if earlier.status is not StepStatus.PASSED else {}

    def output(self, text: str, stream: str = "stdout") -> None:
        self._emit_line(self._step_id, text, stream)

    def output_lines(self, lines: list[str], stream: str = "stdout") -> None:
        self._emit_lines(self._step_id, lines, stream)

    def edit_planned(self, planned: PlannedWrite) -> None:
        """Journal an edit before its file is touched (write-ahead); see ``edits.apply``."""
        self._executor.edit_planned(self._step_id, planned)


class Executor:
    """Runs the steps of one session, each in its own task; owns which are running."""

    def __init__(
        self,
        plan: StepPlan,
        emitter: Emitter,
        params: Parameters,
        carried: CarriedVariables,
        ask: Asker,
        where: Surroundings,
        *,
        operator: Callable[[], str],
        warnings: list[str],
    ) -> None:
        self.plan = plan
        self.emitter = emitter
        self.params = params
        self.carried = carried
        self.where = where
        self._ask = ask
        self._operator = operator  # who runs the session now (a handoff changes it)
        self._warnings = warnings  # the session's list: what is said to the engineer
        self._tasks: dict[str, asyncio.Task[StepStatus]] = {}

    # --- the running steps --------------------------------------------------------

    def running(self) -> list[str]:
        """Ids of the steps whose task has not ended."""
        return list(self._tasks)

    def is_running(self, step_id: str) -> bool:
        return step_id in self._tasks

    def spawn(self, step_id: str) -> asyncio.Task[StepStatus]:
        """Start a step in its own task (a UsageError when it is already running)."""
        step, phase = self.plan.lookup(step_id)
        if step_id in self._tasks:
            raise UsageError(f"step {step_id!r} is already running")
        task = asyncio.get_running_loop().create_task(self._execute(step, phase), name=f"step:{step_id}")
        self._tasks[step_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(step_id, None))
        return task

    def cancel(self, step_id: str) -> bool:
        """Cancel a running step (shell: SIGINT, SIGTERM, SIGKILL of its group); False if not running."""
        task = self._tasks.get(step_id)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    def cancel_all(self) -> None:
        for step_id in list(self._tasks):
            self.cancel(step_id)

    async def wait_idle(self) -> None:
        """Wait until no step is running."""
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def settle(self, *, cancel: bool) -> None:
        """Wait for every running step (background ones too), cancelling them first when ``cancel``."""
        tasks = list(self._tasks.values())
        if cancel:
            for task in tasks:
                task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def attempt(self, step_id: str) -> int:
        """The number the step's next attempt gets."""
        return self.emitter.state.step(step_id).attempts + 1

    def edit_planned(self, step_id: str, planned: PlannedWrite) -> None:
        self.emitter.emit(
            ev.EditPlanned(
                step_id=step_id,
                path=str(planned.path),
                backup=str(planned.backup),
                diff=self.emitter.redact(planned.diff),
                before_sha256=planned.before_sha256,
                after_sha256=planned.after_sha256,
                at=now(),
            )
        )

    # --- one step -------------------------------------------------------------------

    def _fail_before_start(self, step: Step, message: str) -> StepStatus:
        self.emitter.emit(
            ev.StepFinished(
                step_id=step.id,
                status=StepStatus.FAILED.value,
                duration=0.0,
                message=self.emitter.redact(message),
                attempt=self.attempt(step.id),
                at=now(),
            )
        )
        return StepStatus.FAILED

    async def _execute(self, step: Step, phase: Phase) -> StepStatus:
        if self.emitter.failure is not None:
            raise self.emitter.failure
        try:
            await self.params.resolve(step)
            await self.carried.ask_again(step)
            rendered = self.params.runnable(step)
        except ParameterError as exc:
            return self._fail_before_start(step, str(exc))
        if step.kind is StepKind.CONFIRM:
            return await self._confirm_step(step, rendered, phase)
        if step.kind is StepKind.MANUAL:
            return await self._manual_step(step, rendered, phase)
        try:
            runner = runner_for_step(step)
        except RunbookTuiError as exc:
            return self._fail_before_start(step, str(exc))
        ctx = _Context(self, step.id, self._step_env(step))
        preflight = getattr(runner, "preflight", None)  # fleet steps: hosts resolved and capped
        if preflight is not None:
            try:
                await preflight(rendered, ctx)
            except RunbookTuiError as exc:
                return self._fail_before_start(step, str(exc))
        gate = await self._gate_for(step, rendered, runner, ctx)
        if isinstance(gate, StepStatus):
            return gate
        if gate is not None and not await self._gate(step, *gate):
            return StepStatus.NEEDS_YOU
        return await self._run_runner(step, rendered, phase, runner, ctx)

    def _step_env(self, step: Step) -> Mapping[str, str] | None:
        """The environment a shell or watch step runs with (see docs: parameter precedence).

        Process env < carried variables (when they exist) < the step's ``env:`` and the
        parameters. The step's ``env:`` is laid on top by the runner (``step_env``); the
        loader refuses an ``env:`` key that is also a parameter name, so a parameter is
        never overridden, silently or otherwise.
        """
        if not isinstance(step.spec, ShellSpec | WatchSpec):
            return None
        return {**self.where.env, **self.carried.values(), **self.params.values()}

    async def _gate_for(
        self, step: Step, rendered: Step, runner: StepRunner, ctx: _Context
    ) -> tuple[str, str | None] | StepStatus | None:
        """The gate's message and diff, None for no gate, or FAILED when the edit cannot be planned."""
        display = self.params.display(step)
        redact = self.emitter.redact
        if step.is_edit:
            try:
                edit = await asyncio.to_thread(runner.plan_edit, rendered, ctx)
            except Exception as exc:
                return self._fail_before_start(step, f"cannot plan the edit: {exc}")
            if edit is None and not (step.confirm or step.destructive):
                return None  # the file already is as wanted: nothing will be written
            summary = edit.summary if edit else _describe(runner, display)
            return redact(display.confirm or summary), redact(edit.diff) if edit else None
        if display.confirm:
            return redact(display.confirm), None
        if step.destructive:
            return redact(f"{step.title} is destructive: {_describe(runner, display)}"), None
        return None

    async def _gate(self, step: Step, message: str, diff: str | None) -> bool:
        display = self.params.display(step)
        ok = await self._ask.confirm(ConfirmRequest(display, message, diff))
        if ok:
            self.emitter.emit(
                ev.ConfirmationGiven(step_id=step.id, message=message, by=asker_name(self._ask), at=now())
            )
        else:
            self.emitter.emit(ev.ConfirmationDeclined(step_id=step.id, message=message, at=now()))
        return bool(ok)

    def _started_event(self, step: Step, phase: Phase, command: str) -> tuple[int, float]:
        attempt = self.attempt(step.id)
        at = now()
        redact = self.emitter.redact
        self.emitter.emit(
            ev.StepStarted(
                step_id=step.id,
                title=redact(self.params.display(step).title),
                step_kind=step.kind.value,
                phase=phase.value,
                attempt=attempt,
                command=redact(command),
                role=step.role or "",
                at=at,
            )
        )
        return attempt, at

    def _finished_event(self, step: Step, attempt: int, started: float, outcome: StepOutcome) -> StepStatus:
        emitter = self.emitter
        redact = emitter.redact
        if outcome.edit is not None:
            edit = outcome.edit
            emitter.emit(
                ev.FileEdited(
                    step_id=step.id,
                    path=str(edit.path),
                    backup=str(edit.backup),
                    diff=redact(edit.diff),
                    before_sha256=edit.before_sha256,
                    after_sha256=edit.after_sha256,
                    at=now(),
                )
            )
        if emitter.state.step(step.id).planned_edits:
            # The runner failed between journalling an edit and reporting it: ask the file.
            outcome = settle_planned_edits(emitter, step.id, outcome, self._warnings)
        data = _plain_data(outcome.data, redact)
        at = now()
        emitter.emit(
            ev.StepFinished(
                step_id=step.id,
                status=outcome.status.value,
                duration=round(at - started, 6),
                message=redact(outcome.message),
                exit_code=outcome.exit_code,
                attempt=attempt,
                data=data,
                at=at,
            )
        )
        tags = data.get("tags")
        if isinstance(tags, list) and outcome.status is StepStatus.PASSED:
            self.params.tag_choices = [str(t) for t in tags]
        if outcome.status is StepStatus.PASSED and step.milestone is not None:
            emitter.emit(ev.MilestoneReached(milestone=step.milestone.value, step_id=step.id, at=now()))
        return outcome.status

    async def _confirm_step(self, step: Step, rendered: Step, phase: Phase) -> StepStatus:
        spec = rendered.spec
        message = spec.message if isinstance(spec, ConfirmSpec) else step.title
        display_spec = self.params.display(step).spec
        shown = display_spec.message if isinstance(display_spec, ConfirmSpec) else message
        if not await self._gate(step, self.emitter.redact(shown), None):
            return StepStatus.NEEDS_YOU
        attempt, started = self._started_event(step, phase, shown)
        by = asker_name(self._ask)
        return self._finished_event(step, attempt, started, StepOutcome.passed(f"confirmed by {by}"))

    async def _manual_step(self, step: Step, rendered: Step, phase: Phase) -> StepStatus:
        attempt, started = self._started_event(step, phase, "manual")
        try:
            answer = await self._ask.manual(self.params.display(step))
        except asyncio.CancelledError:
            self._finished_event(step, attempt, started, StepOutcome(StepStatus.CANCELLED, "cancelled"))
            return StepStatus.CANCELLED
        if answer.note:
            author = self._operator() if asker_name(self._ask) == "engineer" else asker_name(self._ask)
            self.emitter.emit(
                ev.NoteAdded(text=self.emitter.redact(answer.note), step_id=step.id, author=author, at=now())
            )
        if not answer.done:
            return self._finished_event(
                step, attempt, started, StepOutcome(StepStatus.NEEDS_YOU, "not done yet")
            )
        by = asker_name(self._ask)
        if by == "engineer":
            return self._finished_event(step, attempt, started, StepOutcome.passed("done"))
        # Nobody was there to do it: ticked, never "passed" (see StepStatus.TICKED).
        outcome = StepOutcome(StepStatus.TICKED, f"ticked by {by}; nobody did it")
        return self._finished_event(step, attempt, started, outcome)

    async def _run_runner(
        self, step: Step, rendered: Step, phase: Phase, runner: StepRunner, ctx: _Context
    ) -> StepStatus:
        # The journal's command is what runs: an http step's retries as the drill caps them.
        command = _describe(runner, self.params.display(self._capped_retry(step)[0]))
        attempt, started = self._started_event(step, phase, command)
        emitter = self.emitter
        if emitter.failure is not None:
            raise emitter.failure  # its start could not be recorded: it must not run
        rendered = self._capped_watch(rendered, ctx)
        rendered, note = self._capped_retry(rendered)
        if note is not None:
            ctx.output(note, "info")
        rendered, carry_file = self._with_carry(rendered, ctx)
        if step.capture is not None:
            emitter.tap(step.id)
        limit = step.timeout + TIMEOUT_GRACE if step.timeout else None
        try:
            async with asyncio.timeout(limit):
                outcome = await runner.run(rendered, ctx)
        except asyncio.CancelledError:
            why = "the journal cannot be written" if emitter.failure else "the engineer"
            outcome = StepOutcome(StepStatus.CANCELLED, f"cancelled by {why}")
        except TimeoutError:
            outcome = StepOutcome.failed(f"timed out after {step.timeout:g}s")
        except RunbookTuiError as exc:
            outcome = StepOutcome.failed(str(exc))
        except Exception as exc:
            log.exception("step %s failed inside runbook-tui", step.id)
            outcome = StepOutcome.failed(f"{type(exc).__name__}: {exc} (an error inside runbook-tui)")
        if carry_file is not None:
            found = carry.read_file(carry_file)
            if outcome.status is StepStatus.PASSED:  # a failed step's half-done values do not carry
                self.carried.take(step, carry.changed(found, ctx.env))
        captured = emitter.untap(step.id)
        if step.capture is not None and captured is not None and outcome.status is StepStatus.PASSED:
            outcome = self._take_capture(step, captured, outcome)
        return self._finished_event(step, attempt, started, outcome)

    # --- carried variables and captures (see core/carry.py) ---------------------------

    def _with_carry(self, step: Step, ctx: _Context) -> tuple[Step, Path | None]:
        """A shell step's command with the EXIT trap that reports its top-level assignments."""
        spec = step.spec
        if not isinstance(spec, ShellSpec):
            return step, None
        exclude = self.params.declared_names()
        names = carry.carried_names(spec.command, exclude=exclude)
        if not names:
            return step, None
        if carry.sets_exit_trap(spec.command):
            ctx.output(
                "this step sets its own EXIT trap: its variables are not carried to later steps", "info"
            )
            return step, None
        path = carry.new_file()
        ctx.env = {**ctx.env, carry.CARRY_ENV: str(path)}
        wrapped = dataclasses.replace(spec, command=carry.wrap(spec.command, names))
        return dataclasses.replace(step, spec=wrapped), path

    def _take_capture(self, step: Step, lines: list[str], outcome: StepOutcome) -> StepOutcome:
        spec = step.capture
        assert spec is not None
        found = carry.capture(spec, lines)
        if found.value is None:
            self.emitter.output(step.id, found.problem, "stderr")
            return StepOutcome.failed(found.problem, **outcome.data)
        try:
            value = self.params.validated(spec.name, found.value)
        except ParameterError as exc:
            problem = f"capture {spec.name}: {exc}"
            self.emitter.output(step.id, problem, "stderr")
            return StepOutcome.failed(problem, **outcome.data)
        self.params.record(spec.name, value, f"capture:{step.id}")
        return outcome

    def _capped_watch(self, step: Step, ctx: _Context) -> Step:
        spec = step.spec
        limit = self.where.limits.watch if self.where.limits else None
        if not isinstance(spec, WatchSpec) or limit is None or spec.duration <= limit:
            return step
        ctx.output(
            f"drill: watching for {limit:g}s instead of {spec.duration:g}s (the drill's watch_limit)", "info"
        )
        return dataclasses.replace(step, spec=dataclasses.replace(spec, duration=limit))

    def _capped_retry(self, step: Step) -> tuple[Step, str | None]:
        """An http step with its retry_for cut to the drill's retry_limit, and the note saying so."""
        spec = step.spec
        limit = self.where.limits.retry if self.where.limits else None
        if not isinstance(spec, HttpSpec) or limit is None or spec.retry_for <= limit:
            return step, None
        note = f"drill: retrying for {limit:g}s instead of {spec.retry_for:g}s (the drill's retry_limit)"
        return dataclasses.replace(step, spec=dataclasses.replace(spec, retry_for=limit)), note


def _describe(runner: StepRunner, step: Step) -> str:
    try:
        return runner.describe(step)
    except Exception:
        return step.title


def _plain_data(data: Mapping[str, Any], redact: Callable[[str], str]) -> dict[str, Any]:
    """Step data as plain JSON values, secrets redacted, so a reloaded journal folds the same."""

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return redact(value)
        if isinstance(value, bool | int | float) or value is None:
            return value
        if isinstance(value, Mapping):
            return {str(k): clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [clean(v) for v in value]
        return redact(str(value))

    return {str(k): clean(v) for k, v in data.items()}
