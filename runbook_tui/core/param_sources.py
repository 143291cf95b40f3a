"""Where parameter values come from before the engine asks: ``--param``, ``--param-file``, the environment.

A secret never comes from ``--param``: argv is shown by ``ps`` to every user. Its
three ways in are the prompt (or the app's form), ``--param-file FILE`` (mode 0600
or stricter; one ``name=value`` a line) and ``RUNBOOK_TUI_PARAM_<name>`` in the
environment. When one parameter is given more than one way, ``--param`` wins over
the file, and the file over the environment.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ParameterError, UsageError
from .model import Parameter, Runbook
from .params import validate

ENV_PREFIX = "RUNBOOK_TUI_PARAM_"
SOURCE_COMMAND_LINE = "command-line"
SOURCE_FILE = "param-file"
SOURCE_ENV = "environment"


@dataclass(frozen=True, slots=True)
class GivenParams:
    """Validated values given up front, and where each came from."""

    values: Mapping[str, str] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)


def secret_ways_in(name: str) -> str:
    """The three ways a secret parameter may be given, for messages."""
    return (
        f"type it at the prompt, put '{name}=VALUE' in a file of mode 0600 given with --param-file FILE, "
        f"or set the environment variable {ENV_PREFIX}{name}"
    )


def gather(
    runbook: Runbook,
    pairs: Sequence[str] = (),
    param_file: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> GivenParams:
    """Every value given for ``runbook``'s parameters, validated; UsageError/ParameterError (exit 2)."""
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    for name, value in env_params(runbook, os.environ if environ is None else environ).items():
        values[name], sources[name] = value, SOURCE_ENV
    if param_file is not None:
        for name, value in read_param_file(runbook, Path(param_file)).items():
            values[name], sources[name] = value, SOURCE_FILE
    for name, value in command_line_params(runbook, pairs).items():
        values[name], sources[name] = value, SOURCE_COMMAND_LINE
    return GivenParams(values, sources)


def command_line_params(runbook: Runbook, pairs: Sequence[str]) -> dict[str, str]:
    """``--param K=V`` values, validated; a secret given this way is refused without echoing it."""
    given: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            shown = f"{pair!r}" if not sep else "given"
            raise UsageError(f"--param {shown} is not NAME=VALUE; write it like --param tag=v1.2.3")
        param = _declared(runbook, name, "--param")
        if param.secret:
            raise UsageError(
                f"--param {name}=...: {name} is a secret, and a command line is visible to every user "
                f"(ps); {secret_ways_in(name)}"
            )
        given[name] = validate(param, value)
    return given


def env_params(runbook: Runbook, environ: Mapping[str, str]) -> dict[str, str]:
    """``RUNBOOK_TUI_PARAM_<name>`` for each declared parameter (the name exactly as declared)."""
    given: dict[str, str] = {}
    for param in runbook.parameters:
        value = environ.get(ENV_PREFIX + param.name)
        if value is None:
            continue
        try:
            given[param.name] = validate(param, value)
        except ParameterError as exc:
            raise UsageError(f"environment variable {ENV_PREFIX}{param.name}: {exc}") from None
    return given


def read_param_file(runbook: Runbook, path: Path) -> dict[str, str]:
    """``name=value`` lines from ``path``; refused unless it is a regular file of mode 0600 or stricter.

    Blank lines and lines starting with ``#`` are skipped; the value is everything after
    the first ``=``, as written (no quotes are removed). Errors name ``file:line``.
    """
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not hang us
    except OSError as exc:
        raise UsageError(f"--param-file {path}: cannot be read ({exc.strerror}); check the path") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"--param-file {path}: is not a regular file")
        if info.st_mode & 0o077:
            raise UsageError(
                f"--param-file {path}: its mode is {stat.S_IMODE(info.st_mode):04o}, so other users can "
                f"read it; make it private with: chmod 600 {path}"
            )
        data = handle.read()
    given: dict[str, str] = {}
    for number, raw in enumerate(data.split(b"\n"), start=1):
        where = f"{path}:{number}"
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"{where}: is not valid UTF-8 text; save the file as UTF-8") from None
        line = line.removesuffix("\r")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"{where}: is not NAME=VALUE; write one parameter a line, like tag=v1.2.3")
        param = _declared(runbook, name, where)
        try:
            given[name] = validate(param, value)
        except ParameterError as exc:
            raise UsageError(f"{where}: {exc}") from None
    return given


def _declared(runbook: Runbook, name: str, where: str) -> Parameter:
    param = runbook.parameter(name)
    if param is None:
        declared = ", ".join(p.name for p in runbook.parameters) or "none"
        problem = ParameterError(name, f"is not declared by runbook {runbook.id!r} (it declares: {declared})")
        raise UsageError(f"{where}: {problem}" if where != "--param" else str(problem))
    return param
