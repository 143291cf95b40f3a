"""Pre-flight: what a procedure's shell steps need that this machine does not have.

Before the first step runs, this lists (a) each program a command runs that is not on
``PATH`` and (b) each ``$VAR`` / ``${VAR}`` a step reads while it is neither set in
the environment, nor a declared parameter, nor assigned earlier in the step. A Markdown
runbook's ``kubectl -n ${NAMESPACE}`` must not silently hit the default namespace.

It reads commands with the same parser as parameters (:mod:`.shell_syntax`), so
``awk '{print $1}'``, loop variables, ``read x`` and ``${x:-default}`` do not count.
It looks at the file system (``PATH``, scripts under the workdir) and runs nothing.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from . import params as P
from . import shell_syntax
from .model import Procedure, Runbook, ShellSpec, Step, WatchSpec

# Builtins and keywords of bash (``compgen -b; compgen -k``): never looked up on PATH.
_BUILTINS = frozenset(
    [
        ".",
        ":",
        "[",
        "alias",
        "bg",
        "bind",
        "break",
        "builtin",
        "caller",
        "cd",
        "command",
        "compgen",
        "complete",
        "compopt",
        "continue",
        "declare",
        "dirs",
        "disown",
        "echo",
        "enable",
        "eval",
        "exec",
        "exit",
        "export",
        "false",
        "fc",
        "fg",
        "getopts",
        "hash",
        "help",
        "history",
        "jobs",
        "kill",
        "let",
        "local",
        "logout",
        "mapfile",
        "popd",
        "printf",
        "pushd",
        "pwd",
        "read",
        "readarray",
        "readonly",
        "return",
        "set",
        "shift",
        "shopt",
        "source",
        "suspend",
        "test",
        "times",
        "trap",
        "true",
        "type",
        "typeset",
        "ulimit",
        "umask",
        "unalias",
        "unset",
        "wait",
        "if",
        "then",
        "else",
        "elif",
        "fi",
        "case",
        "esac",
        "for",
        "select",
        "while",
        "until",
        "do",
        "done",
        "in",
        "function",
        "time",
        "{",
        "}",
        "!",
        "[[",
        "]]",
        "coproc",
    ]
)

# Variables bash itself sets (or that a step's shell always has), so reading them is fine.
_SHELL_SET = frozenset(
    [
        "BASH",
        "BASHOPTS",
        "BASHPID",
        "BASH_ALIASES",
        "BASH_ARGC",
        "BASH_ARGV",
        "BASH_COMMAND",
        "BASH_LINENO",
        "BASH_SOURCE",
        "BASH_SUBSHELL",
        "BASH_VERSINFO",
        "BASH_VERSION",
        "COLUMNS",
        "COMP_WORDS",
        "DIRSTACK",
        "EPOCHREALTIME",
        "EPOCHSECONDS",
        "EUID",
        "FUNCNAME",
        "GROUPS",
        "HISTCMD",
        "HOSTNAME",
        "HOSTTYPE",
        "IFS",
        "LINENO",
        "LINES",
        "MACHTYPE",
        "OLDPWD",
        "OPTARG",
        "OPTIND",
        "OSTYPE",
        "PIPESTATUS",
        "PPID",
        "PS4",
        "PWD",
        "RANDOM",
        "REPLY",
        "SECONDS",
        "SHELLOPTS",
        "SHLVL",
        "SRANDOM",
        "UID",
        "PATH",
        "HOME",
        "PAGER",
        "GIT_PAGER",
        "SYSTEMD_PAGER",
        "TERM",
    ]
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a step needs that is missing."""

    step_id: str
    kind: str  # "program" or "variable"
    name: str
    message: str  # a full sentence for the engineer, naming the step

    def __str__(self) -> str:
        return self.message


def check(
    runbook: Runbook,
    procedure: Procedure,
    *,
    env: Mapping[str, str],
    workdir: Path,
    known: Iterable[str] = (),
) -> tuple[Finding, ...]:
    """Every missing program and unset variable of the procedure's shell and watch steps.

    ``env`` is the environment steps get (without parameters); ``known`` are further
    names that will be set (carried variables, once they exist). Steps that run on other
    hosts (fleet steps, ``targets:``) are checked there, not here.
    """
    declared = {p.name for p in runbook.parameters} | set(known)
    findings: list[Finding] = []
    for step in (*procedure.prechecks, *procedure.steps, *procedure.verification):
        findings.extend(_check_step(step, env, workdir, declared))
        declared |= _carried_from(step)  # what it assigns at its top level is set for later steps
    return tuple(findings)


def _carried_from(step: Step) -> set[str]:
    """Names a shell step assigns at its top level: carried to later steps (see core/carry.py)."""
    if not isinstance(step.spec, ShellSpec):
        return set()
    try:
        return set(shell_syntax.top_level_assignments(P.shell_command(step.spec.command)))
    except Exception:
        return set()


def _check_step(step: Step, env: Mapping[str, str], workdir: Path, declared: set[str]) -> list[Finding]:
    spec = step.spec
    if not isinstance(spec, ShellSpec | WatchSpec) or step.fleet is not None:
        return []  # a fleet step's programs and variables are those of its hosts, not this machine's
    try:
        command = P.shell_command(spec.command)  # "${x}" where it says {{x}}
    except Exception:
        command = spec.command  # the loader reported it; look at what is written
    step_env = {**env, **spec.env}
    cwd = workdir / spec.cwd if spec.cwd else workdir
    found: list[Finding] = []
    seen: set[str] = set()
    for use in shell_syntax.programs(command):
        if use.name in seen or use.name in _BUILTINS:
            continue
        seen.add(use.name)
        problem = _program_problem(use.name, step_env.get("PATH", os.defpath), cwd)
        if problem:
            found.append(Finding(step.id, "program", use.name, f"step {step.id}: {problem}"))
    for var in shell_syntax.unassigned_variables(command):
        name = var.name
        if name in step_env or name in declared or name in _SHELL_SET or name.startswith("BASH_"):
            continue
        message = (
            f"step {step.id}: ${name} is not set, not a parameter and not assigned earlier in the step; "
            f"the command would use an empty value (declare it under 'parameters:' or export it)"
        )
        found.append(Finding(step.id, "variable", name, message))
    return found


def _program_problem(name: str, path: str, cwd: Path) -> str | None:
    if "/" in name:
        target = Path(name).expanduser()
        target = target if target.is_absolute() else cwd / target
        if not target.exists():
            return f"{name} does not exist (looked at {target})"
        if not os.access(target, os.X_OK):
            return f"{name} is not executable ({target})"
        return None
    if shutil.which(name, path=path) is None:
        return f"program {name!r} is not on PATH"
    return None


def describe(findings: Iterable[Finding]) -> list[str]:
    """One line per finding, for a terminal or a journal event."""
    return [f.message for f in findings]
