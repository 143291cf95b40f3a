"""The plan: what a procedure would do here and now, computed without changing anything.

Every step in the order it runs, rendered for reading (values in place, secrets
masked): shell commands, file edits as unified diffs against the files on disk now
(the runners' own ``plan_edit``), HTTP requests with their expectations, Docker and
git actions, the gates and the recovery window. What could not be planned is said
in words. Nothing with effects runs: only steps marked ``read_only: true`` and the
built-in read-only probes (HTTP GET/HEAD checks, docker tag and state listings, git
tag listings and tag look-ups, file reads, ``choices_from`` commands). A step whose
effect cannot be predicted is "unknown", never "skipped".
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import params as P
from . import preflight as pf
from . import shell_syntax
from .engine import display_step, fill_step
from .errors import ParameterError
from .events import Phase
from .model import (
    ConfirmSpec,
    DockerAction,
    DockerSpec,
    GitAction,
    GitSpec,
    HttpSpec,
    ManualSpec,
    Parameter,
    ParameterSource,
    Procedure,
    Runbook,
    ShellSpec,
    Step,
    StepKind,
    WatchSpec,
)
from .steps.base import StepOutcome, StepRunner

PROBE_TIMEOUT = 10.0
MAX_PROBE_LINES = 20

# What a step does to the world, as far as the plan can tell.
NONE = "none"  # reads only (ran, or would only read)
CHANGES = "changes"  # the change is known (a diff, a restart, a tag)
UNKNOWN = "unknown"  # runs a command whose effect cannot be predicted
NOTHING_TO_DO = "nothing_to_do"  # an edit whose file already is as wanted


@dataclass(frozen=True, slots=True)
class PlannedStep:
    """One step of the plan."""

    step_id: str
    phase: str
    kind: str
    title: str
    action: str  # what it would do, values in place, secrets masked
    effect: str  # NONE, CHANGES, UNKNOWN or NOTHING_TO_DO
    diff: str = ""  # an edit: the unified diff against the file now
    gate: str = ""  # the confirmation asked before it runs ("" for none)
    destructive: bool = False
    ran: bool = False  # run by the plan (read_only, or a built-in probe)
    result: tuple[str, ...] = ()  # what running it showed
    problems: tuple[str, ...] = ()  # why (part of) it could not be planned


@dataclass(frozen=True, slots=True)
class Plan:
    """The whole plan of a procedure."""

    runbook_id: str
    runbook_title: str
    procedure_id: str
    procedure_title: str
    workdir: str
    window: str
    steps: tuple[PlannedStep, ...]
    preflight: tuple[str, ...]
    params: Mapping[str, str]  # values used, secrets masked

    @property
    def unplanned(self) -> tuple[str, ...]:
        """What could not be planned, one sentence each, naming the step."""
        return tuple(f"step {s.step_id}: {p}" for s in self.steps for p in s.problems)

    @property
    def complete(self) -> bool:
        return not self.unplanned


class _Probe:
    """A step context for read-only runs: output is kept, not journalled; edits are never applied."""

    def __init__(self, workdir: Path, env: Mapping[str, str]) -> None:
        self.workdir = workdir
        self.env = env
        self.drill = False
        self.backup_dir = Path(os.devnull)
        self.lines: list[str] = []

    def output(self, text: str, stream: str = "stdout") -> None:
        self.lines.append(text if stream == "stdout" else f"[{stream}] {text}")

    def output_lines(self, lines: list[str], stream: str = "stdout") -> None:
        for line in lines:
            self.output(line, stream)


async def build_plan(
    runbook: Runbook,
    procedure: Procedure,
    *,
    workdir: Path,
    params: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> Plan:
    """The plan of ``procedure`` against the system as it is now; changes nothing."""
    workdir = Path(workdir).resolve()
    base_env = {**os.environ, **(env or {})}
    values = dict(params or {})
    problems: dict[str, list[str]] = {}
    for param in runbook.parameters:
        if param.name not in values and param.default is not None:
            values[param.name] = param.default
    order = [
        *((s, Phase.PRECHECK) for s in procedure.prechecks),
        *((s, Phase.STEP) for s in procedure.steps),
        *((s, Phase.VERIFICATION) for s in procedure.verification),
    ]
    findings = pf.check(runbook, procedure, env=base_env, workdir=workdir)
    assigned_by: dict[str, str] = {}
    planned: list[PlannedStep] = []
    for step, phase in order:
        missing = _missing_params(runbook, step, values)
        notes = [await _not_given(runbook.parameter(n) or Parameter(n), workdir, base_env) for n in missing]
        shown = {**values, **{n: f"<{n}: not given>" for n in missing}}
        item = await _plan_step(runbook, step, phase, shown, values, workdir, base_env, assigned_by)
        if step.capture is not None and item.ran:
            problems.setdefault(step.id, []).extend(_captured(runbook, step, item, values))
        extra = [*notes, *problems.get(step.id, [])]
        if extra:
            item = dataclasses.replace(item, problems=(*extra, *item.problems))
        planned.append(item)
        if isinstance(step.spec, ShellSpec):
            for name in shell_syntax.top_level_assignments(_command(step.spec.command)):
                assigned_by.setdefault(name, step.id)
    secret = {p.name for p in runbook.parameters if p.secret}
    # A read-only step may print a secret, and a diff may hold one: masked like the journal does.
    redact = P.Redactor(v for k, v in values.items() if k in secret)
    if redact:
        planned = [_redacted(item, redact) for item in planned]
    return Plan(
        runbook_id=runbook.id,
        runbook_title=runbook.title,
        procedure_id=procedure.id,
        procedure_title=procedure.title,
        workdir=str(workdir),
        window=procedure.window.text if procedure.window else "",
        steps=tuple(planned),
        preflight=tuple(pf.describe(findings)),
        params={k: (P.REDACTED if k in secret and v else v) for k, v in values.items()},
    )


def _redacted(item: PlannedStep, redact: P.Redactor) -> PlannedStep:
    return dataclasses.replace(
        item,
        title=redact(item.title),
        action=redact(item.action),
        diff=redact(item.diff),
        gate=redact(item.gate),
        result=tuple(redact(line) for line in item.result),
        problems=tuple(redact(line) for line in item.problems),
    )


def _captured(runbook: Runbook, step: Step, item: PlannedStep, values: dict[str, str]) -> list[str]:
    """A read-only step's capture sets its parameter for the later steps of the plan too."""
    from . import carry

    spec = step.capture
    assert spec is not None
    found = carry.capture(spec, item.result)
    param = runbook.parameter(spec.name)
    if found.value is None or param is None:
        return [found.problem or f"capture {spec.name}: not a declared parameter"]
    try:
        values[spec.name] = P.validate(param, found.value)
    except ParameterError as exc:
        return [f"capture {spec.name}: {exc}"]
    return []


def _command(text: str) -> str:
    try:
        return P.shell_command(text)
    except ParameterError:
        return text


def _missing_params(runbook: Runbook, step: Step, values: Mapping[str, str]) -> list[str]:
    from .engine.parameters import step_placeholders  # the engine's own notion of "names a step uses"

    names = step_placeholders(step)
    if isinstance(step.spec, ShellSpec | WatchSpec):
        read = (v.name for v in shell_syntax.unassigned_variables(_command(step.spec.command)))
        names += [n for n in read if runbook.parameter(n) is not None and n not in names]
    return [n for n in names if n not in values]


async def _not_given(param: Parameter, workdir: Path, env: Mapping[str, str]) -> str:
    """'parameter X not given', with the choices a read-only ``choices_from`` lists."""
    said = f"parameter {param.name} not given (pass --param {param.name}=VALUE)"
    source = param.choices_from
    if source is None:
        return said
    try:
        choices = await _choices(source.source, source.value, workdir, env, source.docker_host)
    except Exception as exc:  # listing choices is a help; the gap is what matters
        return f"{said}; its choices could not be listed: {exc}"
    shown = ", ".join(choices[:10]) + (" ..." if len(choices) > 10 else "")
    return f"{said}; choices now: {shown or 'none'}"


async def _choices(
    source: ParameterSource, value: str, workdir: Path, env: Mapping[str, str], docker_host: str | None = None
) -> list[str]:
    if source is ParameterSource.GIT_TAGS:
        from .steps.git import list_git_tags

        return await list_git_tags(workdir / value, env)
    if source is ParameterSource.DOCKER_TAGS:
        from .steps import docker

        tags = await asyncio.to_thread(docker.list_image_tags, value, env, docker_host)
        return [str(t) for t in tags]
    from .steps.shell import run_command

    lines: list[str] = []
    result = await run_command(
        value,
        cwd=workdir,
        env=env,
        on_line=lambda text, stream: (
            lines.append(text.strip()) if stream == "stdout" and text.strip() else None
        ),
        timeout=PROBE_TIMEOUT,
    )
    if not result.ok:
        raise RuntimeError(f"`{value}` {result.describe(PROBE_TIMEOUT)}")
    return lines


async def _plan_step(
    runbook: Runbook,
    step: Step,
    phase: Phase,
    shown: Mapping[str, str],
    values: Mapping[str, str],
    workdir: Path,
    env: Mapping[str, str],
    assigned_by: Mapping[str, str],
) -> PlannedStep:
    display = display_step(runbook, step, shown)
    gate = display.confirm or ""
    if step.destructive and not gate:
        gate = f"{display.title} is destructive: asks before it runs"
    base = PlannedStep(
        step_id=step.id,
        phase=phase.value,
        kind=step.kind.value,
        title=display.title,
        action=display.title,
        effect=UNKNOWN,
        gate=gate,
        destructive=step.destructive,
    )
    complete = not _missing_params(runbook, step, values)
    runnable = fill_step(
        step, {**values, **{k: v for k, v in shown.items() if k not in values}}, runnable=True
    )
    spec = display.spec
    if isinstance(spec, ShellSpec | WatchSpec):
        return await _plan_shell(base, step, runnable, spec, values, workdir, env, assigned_by, complete)
    if step.is_edit:
        return await _plan_edit(base, step, runnable, workdir, env, complete)
    if isinstance(spec, HttpSpec):
        return await _plan_http(base, step, runnable, spec, workdir, env, complete)
    if isinstance(spec, DockerSpec):
        return await _plan_docker(base, step, runnable, spec, workdir, env, complete)
    if isinstance(spec, GitSpec):
        return await _plan_git(base, step, runnable, spec, workdir, env, complete)
    if isinstance(spec, ConfirmSpec):
        return dataclasses.replace(base, action=f"asks: {spec.message}", effect=NONE, gate=spec.message)
    if isinstance(spec, ManualSpec):
        text = spec.instructions.strip() or display.description or display.title
        return dataclasses.replace(base, action=f"manual: {text}", effect=UNKNOWN)
    return base


def _describe(step: Step) -> str:
    from .steps.registry import runner_for

    try:
        return runner_for(step.kind).describe(step)
    except Exception:
        return step.title


def _fresh_runner(kind: StepKind) -> StepRunner:
    """A runner of its own: the shared one (``runner_for``) remembers planned edits for the run."""
    from .steps.registry import runner_for

    return type(runner_for(kind))()


async def _run(step: Step, workdir: Path, env: Mapping[str, str]) -> tuple[StepOutcome, list[str]]:
    """Run a read-only step (or probe) with a fresh runner; its output is kept, nothing journalled."""
    runner = _fresh_runner(step.kind)
    probe = _Probe(workdir, env)
    try:
        outcome = await asyncio.wait_for(runner.run(step, probe), PROBE_TIMEOUT * 3)
    except Exception as exc:
        outcome = StepOutcome.failed(f"{type(exc).__name__}: {exc}")
    return outcome, probe.lines


def _result(outcome: StepOutcome, lines: list[str]) -> tuple[str, ...]:
    shown = lines[:MAX_PROBE_LINES]
    more = [f"... {len(lines) - MAX_PROBE_LINES} more line(s)"] if len(lines) > MAX_PROBE_LINES else []
    return (*shown, *more, f"{outcome.status.value}: {outcome.message}".rstrip(": "))


async def _plan_shell(
    base: PlannedStep,
    step: Step,
    runnable: Step,
    spec: ShellSpec | WatchSpec,
    values: Mapping[str, str],
    workdir: Path,
    env: Mapping[str, str],
    assigned_by: Mapping[str, str],
    complete: bool,
) -> PlannedStep:
    action = _describe(dataclasses.replace(step, spec=spec))
    read = [v.name for v in shell_syntax.unassigned_variables(_command(step.spec.command))]  # type: ignore[attr-defined]
    carried = [
        f"${n} comes from step {assigned_by[n]} (known when it runs)" for n in read if n in assigned_by
    ]
    result: tuple[str, ...] = tuple(carried)
    if isinstance(spec, WatchSpec):  # it runs for its whole duration: never run by the plan
        effect = NONE if step.read_only else UNKNOWN
        return dataclasses.replace(
            base, action=action, effect=effect, result=(*result, "a watch: not run by the plan")
        )
    if not step.read_only:
        return dataclasses.replace(base, action=action, effect=UNKNOWN, result=result)
    if not complete or carried:
        why = "a parameter is not given" if not complete else "it uses values of earlier steps"
        return dataclasses.replace(
            base, action=action, effect=NONE, result=(*result, f"read-only, not run: {why}")
        )
    outcome, lines = await _run(runnable, workdir, {**env, **values})
    return dataclasses.replace(
        base, action=action, effect=NONE, ran=True, result=(*result, *_result(outcome, lines))
    )


async def _plan_edit(
    base: PlannedStep, step: Step, runnable: Step, workdir: Path, env: Mapping[str, str], complete: bool
) -> PlannedStep:
    action = _describe(runnable)
    if not complete:
        return dataclasses.replace(base, action=action, effect=UNKNOWN)
    runner = _fresh_runner(step.kind)
    try:
        edit = await asyncio.to_thread(runner.plan_edit, runnable, _Probe(workdir, env))
    except Exception as exc:
        return dataclasses.replace(base, action=action, effect=UNKNOWN, problems=(str(exc),))
    if edit is None:
        return dataclasses.replace(
            base, action=f"{action} (already as wanted: nothing to write)", effect=NOTHING_TO_DO
        )
    gate = base.gate or edit.summary
    return dataclasses.replace(base, action=edit.summary, effect=CHANGES, diff=edit.diff, gate=gate)


async def _plan_http(
    base: PlannedStep,
    step: Step,
    runnable: Step,
    spec: HttpSpec,
    workdir: Path,
    env: Mapping[str, str],
    complete: bool,
) -> PlannedStep:
    expects = [f"status {spec.expect_status}"] + [f"{k} = {v}" for k, v in spec.expect_json.items()]
    retry = f", retrying for {spec.retry_for:g}s" if spec.retry_for else ""
    action = f"{spec.method} {spec.url}, expecting {', '.join(expects)}{retry}"
    reads = spec.method.upper() in ("GET", "HEAD")
    if not reads and not step.read_only:
        return dataclasses.replace(base, action=action, effect=UNKNOWN)
    if not complete:
        return dataclasses.replace(base, action=action, effect=NONE)
    rspec = runnable.spec
    assert isinstance(rspec, HttpSpec)
    once = dataclasses.replace(runnable, spec=dataclasses.replace(rspec, retry_for=0.0))
    outcome, lines = await _run(once, workdir, env)
    return dataclasses.replace(base, action=action, effect=NONE, ran=True, result=_result(outcome, lines))


async def _plan_docker(
    base: PlannedStep,
    step: Step,
    runnable: Step,
    spec: DockerSpec,
    workdir: Path,
    env: Mapping[str, str],
    complete: bool,
) -> PlannedStep:
    action = _describe(runnable)
    if spec.action is DockerAction.RESTART:
        return dataclasses.replace(base, action=action, effect=CHANGES)
    if not complete:
        return dataclasses.replace(base, action=action, effect=NONE)
    outcome, lines = await _run(runnable, workdir, env)
    problems = () if outcome.status.is_ok else (f"{action}: {outcome.message}",)
    return dataclasses.replace(
        base, action=action, effect=NONE, ran=True, result=_result(outcome, lines), problems=problems
    )


async def _plan_git(
    base: PlannedStep,
    step: Step,
    runnable: Step,
    spec: GitSpec,
    workdir: Path,
    env: Mapping[str, str],
    complete: bool,
) -> PlannedStep:
    action = _describe(runnable)
    effect = CHANGES if spec.action in (GitAction.TAG, GitAction.CHECKOUT) else NONE
    if not complete:
        return dataclasses.replace(base, action=action, effect=effect)
    rspec = runnable.spec
    assert isinstance(rspec, GitSpec)
    if spec.action in (GitAction.TAGS, GitAction.VERIFY):
        probe = runnable
    elif spec.action is GitAction.CHECKOUT:
        probe = dataclasses.replace(runnable, spec=dataclasses.replace(rspec, action=GitAction.VERIFY))
    else:
        return await _plan_new_tag(base, runnable, rspec, action, workdir, env)
    outcome, lines = await _run(probe, workdir, env)
    problems = () if outcome.status.is_ok else (outcome.message,)
    return dataclasses.replace(
        base, action=action, effect=effect, ran=True, result=_result(outcome, lines), problems=problems
    )


async def _plan_new_tag(
    base: PlannedStep, runnable: Step, spec: GitSpec, action: str, workdir: Path, env: Mapping[str, str]
) -> PlannedStep:
    from .steps.git import _commit_of

    repo = workdir / spec.repo if spec.repo else workdir
    try:
        existing = await _commit_of(repo, env, spec.tag or "")
    except Exception as exc:
        return dataclasses.replace(base, action=action, effect=CHANGES, problems=(str(exc),))
    problems = (f"tag {spec.tag} already exists (at {existing[:12]})",) if existing else ()
    return dataclasses.replace(base, action=action, effect=CHANGES, ran=True, problems=problems)


# --- output -------------------------------------------------------------------------


def plan_lines(plan: Plan) -> list[str]:
    """The plan for a terminal (and the ``plan`` event): one block per step."""
    out = [
        f"Plan: {plan.runbook_title} / {plan.procedure_title} ({plan.procedure_id}) in {plan.workdir}",
        f"Recovery window: {plan.window}" if plan.window else "Recovery window: none stated",
    ]
    if plan.params:
        out.append("Parameters: " + ", ".join(f"{k}={v}" for k, v in plan.params.items()))
    out.append(
        f"Pre-flight: {len(plan.preflight)} finding(s)" if plan.preflight else "Pre-flight: nothing missing"
    )
    out.extend(f"  - {line}" for line in plan.preflight)
    for number, s in enumerate(plan.steps, start=1):
        flags = [s.effect.replace("_", " ")]
        if s.destructive:
            flags.append("DESTRUCTIVE")
        if s.ran:
            flags.append("ran read-only")
        out.append("")
        out.append(f"{number}. [{s.phase}] {s.step_id}: {s.title} ({', '.join(flags)})")
        out.extend(f"   {line}" for line in s.action.splitlines() or [""])
        if s.gate:
            out.append(f"   gate: {s.gate}")
        out.extend(f"   | {line}" for line in s.diff.rstrip("\n").splitlines())
        out.extend(f"   > {line}" for line in s.result)
        out.extend(f"   CANNOT PLAN: {p}" for p in s.problems)
    out.append("")
    gaps = plan.unplanned
    out.append("Everything could be planned." if not gaps else f"{len(gaps)} thing(s) could not be planned:")
    out.extend(f"  - {gap}" for gap in gaps)
    return out


def plan_data(plan: Plan) -> dict[str, Any]:
    """The plan as JSON-ready data (see docs/cli-json.md)."""
    return {
        "runbook": plan.runbook_id,
        "procedure": plan.procedure_id,
        "workdir": plan.workdir,
        "window": plan.window or None,
        "parameters": dict(plan.params),
        "preflight": list(plan.preflight),
        "complete": plan.complete,
        "unplanned": list(plan.unplanned),
        "steps": [
            {
                "id": s.step_id,
                "phase": s.phase,
                "kind": s.kind,
                "title": s.title,
                "action": s.action,
                "effect": s.effect,
                "diff": s.diff or None,
                "gate": s.gate or None,
                "destructive": s.destructive,
                "ran": s.ran,
                "result": list(s.result),
                "problems": list(s.problems),
            }
            for s in plan.steps
        ],
    }
