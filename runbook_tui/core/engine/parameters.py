"""A session's parameters and carried variables: values, secrets, asking, and rendering steps with them.

Values are read from the fold (``parameter_set``, ``variable_carried``): the engine
keeps no copy of what the journal records. Secret values never reach the journal or
the fold (both hold ``••••••``): :class:`Parameters` and :class:`CarriedVariables`
keep them in memory alone, so a resumed session asks for them again.

What RUNS and what is SHOWN are two renderings of a step, never one:

- :func:`fill_step` with ``runnable=True``: shell commands keep variable references
  (``"${tag}"``) and the values travel in the environment; URLs get their values
  percent-encoded.
- :func:`display_step`: the values spliced in for a reader (titles, confirmations,
  the journal's ``command``), secret values masked.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
from collections.abc import Iterable, Mapping
from enum import Enum
from pathlib import Path
from typing import Any

from .. import carry, shell_syntax
from .. import events as ev
from .. import params as P
from ..ansi import strip_ansi
from ..asker import Asker
from ..errors import ParameterError, RunbookTuiError
from ..journal.fold import SessionState
from ..model import HttpSpec, Parameter, ParameterSource, Runbook, ShellSpec, Step, WatchSpec
from .emitter import Emitter, now

CHOICES_TIMEOUT = 30.0
MAX_CHOICES = 1000


class Parameters:
    """The runbook's parameters in one session: given, asked for, captured, and recorded.

    A value is what the fold's last ``parameter_set`` for it says, except a secret's,
    which is held here alone (the fold has ``••••••``). Only parameters the runbook
    declares count: a resumed journal may name one the runbook no longer has.
    """

    def __init__(
        self,
        runbook: Runbook,
        emitter: Emitter,
        ask: Asker,
        *,
        workdir: Path,
        env: Mapping[str, str],
        given: Mapping[str, str],
        sources: Mapping[str, str],
        default_source: str,
    ) -> None:
        self._runbook = runbook
        self._emitter = emitter
        self._ask = ask
        self._workdir = workdir
        self._env = env
        self._secrets: dict[str, str] = {}  # secret values, never journalled nor folded
        self.tag_choices: list[str] = []  # tags a passed step listed, offered for the next parameter
        self._given: list[tuple[str, str, str]] = []
        for name, value in given.items():
            source = sources.get(name, default_source)
            self._given.append((name, self.validated(name, value), source))

    def values(self) -> dict[str, str]:
        """Every value known so far, secrets included (for running, and for ``plan``, which masks them)."""
        state = self._emitter.state
        secret = state.secret_params
        declared = self._runbook.parameter
        found: dict[str, str] = {}
        for name, value in state.params.items():
            if name in secret:
                if name in self._secrets:  # asked again after a resume when not
                    found[name] = self._secrets[name]
            elif declared(name) is not None:
                found[name] = value
        return found

    def declared_names(self) -> set[str]:
        return {p.name for p in self._runbook.parameters}

    def is_secret(self, name: str) -> bool:
        param = self._runbook.parameter(name)
        return bool(param and param.secret)

    def validated(self, name: str, value: str | None, choices: Iterable[str] = ()) -> str:
        """``value`` checked against the parameter's rules (ParameterError names the rule)."""
        param = self._runbook.parameter(name)
        if param is None:
            return check_params(self._runbook, {name: value or ""})[name]  # raises: not declared
        return P.validate(param, value, choices=choices)

    def record(self, name: str, value: str, source: str) -> None:
        """Journal a (validated) value: ``parameter_set``, masked when the parameter is secret."""
        secret = self.is_secret(name)
        if secret:
            self._emitter.add_secret(value)
            self._secrets[name] = value
        shown = P.REDACTED if secret and value else value
        self._emitter.emit(ev.ParameterSet(name=name, value=shown, secret=secret, source=source, at=now()))

    def record_given(self) -> None:
        """Journal the values given up front (once the session has started)."""
        for name, value, source in self._given:
            self.record(name, value, source)
        self._given.clear()

    def adopt(self, state: SessionState) -> None:
        """A resumed session: the tags its steps listed are offered again."""
        for step_id in state.step_order:
            tags = state.steps[step_id].data.get("tags")
            if isinstance(tags, list):
                self.tag_choices = [str(t) for t in tags]

    def keep_recorded(self, warnings: list[str]) -> None:
        """Drop given values for parameters the journal already has (warning when they differ)."""
        recorded_values = self.values()
        kept: list[tuple[str, str, str]] = []
        for name, value, source in self._given:
            recorded = recorded_values.get(name)
            if recorded is None:
                kept.append((name, value, source))
            elif recorded != value:
                warnings.append(
                    f"parameter {name} stays {recorded!r} as recorded; "
                    f"the {source} value given now is not used"
                )
        self._given = kept

    async def resolve(self, step: Step) -> None:
        """Ask for every parameter the step uses that has no value yet; ParameterError if one fails."""
        for name in self.names_used(step):
            if name in self.values():
                continue
            param = self._runbook.parameter(name)
            if param is None:
                raise ParameterError(name, f"is used by step {step.id!r} but the runbook does not declare it")
            choices = await self._choices(param, step.id)
            answer = await self._ask.parameter(param, choices)
            value = P.validate(param, answer, choices=choices)
            source = "prompt" if answer else "default"
            if answer and answer in choices and answer not in param.choices:
                source = "choices"
            self.record(name, value, source)

    def names_used(self, step: Step) -> list[str]:
        """Its placeholders, and declared parameters its shell command reads as ``$name``."""
        names = step_placeholders(step)
        if isinstance(step.spec, ShellSpec | WatchSpec):
            read = (v.name for v in shell_syntax.unassigned_variables(step.spec.command))
            names += [n for n in read if self._runbook.parameter(n) is not None and n not in names]
        return names

    def runnable(self, step: Step) -> Step:
        """The step as it runs: no value is ever spliced into shell text."""
        return fill_step(step, self.values(), runnable=True)

    def display(self, step: Step) -> Step:
        """The step as shown and journalled: values in place for reading, secrets masked."""
        return display_step(self._runbook, step, self.values())

    async def _choices(self, param: Parameter, step_id: str) -> list[str]:
        found: list[str] = list(param.choices)
        if param.choices_from is not None:
            try:
                found += await self._load_choices(param)
            except Exception as exc:  # offered values are a help; validation still applies
                self._emitter.output(step_id, f"could not list choices for {param.name}: {exc}", "info")
        found += self.tag_choices
        return list(dict.fromkeys(c for c in found if c))

    async def _load_choices(self, param: Parameter) -> list[str]:
        source = param.choices_from
        assert source is not None
        if source.source is ParameterSource.GIT_TAGS:
            from ..steps.git import list_git_tags

            return await list_git_tags(self._workdir / source.value, self._env)
        if source.source is ParameterSource.DOCKER_TAGS:
            from ..steps import docker

            lister: Any = docker.list_image_tags
            if inspect.iscoroutinefunction(lister):
                result = await lister(source.value, self._env, docker_host=source.docker_host)
            else:  # the docker SDK blocks: keep it off the event loop
                result = await asyncio.to_thread(
                    lister, source.value, self._env, docker_host=source.docker_host
                )
            return [str(t) for t in result]
        return await self._command_lines(source.value)

    async def _command_lines(self, command: str) -> list[str]:
        from ..steps.shell import run_command

        lines: list[str] = []

        def keep(text: str, stream: str) -> None:
            if stream == "stdout" and text.strip() and len(lines) < MAX_CHOICES:
                lines.append(strip_ansi(text).strip())

        result = await run_command(
            command, cwd=self._workdir, env=self._env, on_line=keep, timeout=CHOICES_TIMEOUT
        )
        if not result.ok:
            raise RunbookTuiError(f"`{command}` {result.describe(CHOICES_TIMEOUT)}")
        return lines


class CarriedVariables:
    """Shell variables carried from step to step (see ``core/carry.py``): value and the step that set it.

    Read from the fold (``variable_carried``), except a value that looked secret: it is
    journalled (and folded) as ``••••••`` and held here alone. After a resume such a
    value is unknown, and asked for again before a step reads it.
    """

    def __init__(self, emitter: Emitter, ask: Asker) -> None:
        self._emitter = emitter
        self._ask = ask
        self._secrets: dict[str, str] = {}  # values journalled as ••••••, never folded

    def values(self) -> dict[str, str]:
        """Every carried value known (a secret one only when set or given again in this process)."""
        found: dict[str, str] = {}
        for name, carried_event in self._emitter.state.carried.items():
            if not carried_event.redacted:
                found[name] = carried_event.value
            elif name in self._secrets:
                found[name] = self._secrets[name]
        return found

    def _unknown(self) -> dict[str, str]:
        """Secret values the journal does not hold and nobody gave again: name -> step that set it."""
        carried = self._emitter.state.carried
        return {n: e.step_id for n, e in carried.items() if e.redacted and n not in self._secrets}

    def adopt(self, state: SessionState, warnings: list[str]) -> None:
        """A resumed session: say which carried variables were secret, to be asked again."""
        for name, carried_event in state.carried.items():
            if carried_event.redacted:
                warnings.append(
                    f"variable {name} (set by step {carried_event.step_id}) was not journalled (a secret); "
                    "it is asked for again when a later step uses it"
                )

    def used(self, step: Step) -> list[tuple[str, str, str]]:
        """Carried variables the step reads: (name, value as shown, step that set it)."""
        carried = self._emitter.state.carried
        if not isinstance(step.spec, ShellSpec | WatchSpec) or not carried:
            return []
        try:
            read = [v.name for v in shell_syntax.unassigned_variables(P.shell_command(step.spec.command))]
        except Exception:
            return []
        redact = self._emitter.redact
        values = self.values()
        return [
            (n, redact(values.get(n, P.REDACTED)), carried[n].step_id)
            for n in dict.fromkeys(read)
            if n in carried
        ]

    def take(self, step: Step, found: Mapping[str, str]) -> None:
        """Journal what a passed step's top-level assignments left, masking what looks secret."""
        emitter = self._emitter
        for name, value in found.items():
            secret = carry.secret_looking(name) or (bool(value) and emitter.redact(value) != value)
            if secret:
                if value:
                    emitter.add_secret(value)
                self._secrets[name] = value
            shown = P.REDACTED if secret and value else value
            emitter.emit(
                ev.VariableCarried(name=name, value=shown, step_id=step.id, redacted=secret, at=now())
            )

    async def ask_again(self, step: Step) -> None:
        """A carried secret the journal does not hold (after resume): ask for it before a step reads it."""
        if not isinstance(step.spec, ShellSpec | WatchSpec):
            return
        unknown = self._unknown()
        if not unknown:
            return
        read = {v.name for v in shell_syntax.unassigned_variables(P.shell_command(step.spec.command))}
        for name in [n for n in unknown if n in read]:
            by = unknown[name]
            param = Parameter(
                name=name,
                description=f"set by step {by} before the resume; its value was not journalled (a secret)",
                secret=True,
            )
            answer = await self._ask.parameter(param, [])
            if not answer:
                raise ParameterError(
                    name, f"was set by step {by} and not journalled; give it again, or run from step {by}"
                )
            self._emitter.add_secret(answer)
            self._secrets[name] = answer


def fill_step(step: Step, values: Mapping[str, str], *, runnable: bool) -> Step:
    """``step`` with its placeholders filled from ``values`` (ParameterError for a missing one).

    ``runnable``: shell commands keep quoted variable references (the values travel in
    the environment) and URLs get their values percent-encoded; otherwise the values
    are spliced in for a reader.
    """
    spec_is_shell = isinstance(step.spec, ShellSpec | WatchSpec)
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(step.spec):
        value = getattr(step.spec, f.name)
        if runnable and spec_is_shell and f.name == "command":
            rendered: Any = P.render(value, values, shell=True) if P.placeholders(value) else value
        elif runnable and isinstance(step.spec, HttpSpec) and f.name == "url":
            rendered = P.render_url(value, values) if P.placeholders(value) else value
        else:
            rendered = _render_value(value, values, shell=False)
        if rendered is not value:
            changes[f.name] = rendered
    spec = dataclasses.replace(step.spec, **changes) if changes else step.spec
    return dataclasses.replace(
        step,
        spec=spec,
        title=P.render(step.title, values),
        confirm=P.render(step.confirm, values) if step.confirm else step.confirm,
    )


def display_step(runbook: Runbook, step: Step, values: Mapping[str, str]) -> Step:
    """The step as shown to a reader (and journalled): values in place, secret values masked.

    Needs no session or journal: ``plan`` renders steps with it too.
    """
    secret = {p.name for p in runbook.parameters if p.secret}
    if secret & values.keys():
        values = {k: (P.REDACTED if k in secret and v else v) for k, v in values.items()}
    return fill_step(step, values, runnable=False)


def check_params(runbook: Runbook, values: Mapping[str, str]) -> dict[str, str]:
    """Values given up front, validated against the runbook's parameters (ParameterError names the rule)."""
    checked: dict[str, str] = {}
    declared = ", ".join(p.name for p in runbook.parameters) or "none"
    for name, value in values.items():
        param = runbook.parameter(name)
        if param is None:
            raise ParameterError(name, f"is not declared by runbook {runbook.id!r} (it declares: {declared})")
        checked[name] = P.validate(param, value)
    return checked


def step_placeholders(step: Step) -> list[str]:
    """Parameter names a step uses, in order of first use."""
    texts = [step.title, step.confirm or ""]
    for f in dataclasses.fields(step.spec):
        texts.extend(_strings(getattr(step.spec, f.name)))
    return list(dict.fromkeys(name for text in texts for name in P.placeholders(text)))


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, Enum):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)


def _render_value(value: Any, values: Mapping[str, str], *, shell: bool) -> Any:
    """``value`` with placeholders filled; the same object when nothing changed."""
    if isinstance(value, Enum):
        return value
    if isinstance(value, str):
        if not P.placeholders(value):
            return value
        return P.render(value, values, shell=shell)
    if isinstance(value, tuple):
        items = tuple(_render_value(v, values, shell=shell) for v in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, Mapping):
        rendered = {k: _render_value(v, values, shell=False) for k, v in value.items()}
        if all(rendered[k] is value[k] for k in value):
            return value
        from types import MappingProxyType

        return MappingProxyType(rendered)
    return value
