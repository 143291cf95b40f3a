"""Where a shell command hands a secret to another program as an argument (``ps`` shows argv).

A load-time warning, not an error: ``curl -H "Authorization: Bearer {{token}}"`` works, but
while curl runs every user of the machine can read the token in ``ps``. A builtin
(``echo``, ``printf``, ``export``, ...) runs inside the shell and starts no process,
and ``NAME={{token}} cmd`` passes it in the environment, so neither is reported.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from typing import TYPE_CHECKING

from .params import placeholders

if TYPE_CHECKING:
    from .model import Parameter, Procedure, Step

# Builtins start no process, so their arguments are not in anyone's argv.
_BUILTINS = frozenset(
    [
        "echo",
        "printf",
        "export",
        "read",
        "test",
        "[",
        "[[",
        "local",
        "declare",
        "typeset",
        ":",
        "true",
        "false",
        "set",
        "unset",
        "return",
        "eval",
        "cd",
        "pushd",
        "popd",
        "let",
        "readonly",
        "shift",
        "exit",
        "printf",
    ]
)
_SEPARATORS = re.compile(r"\n|;|\|\||&&|\||&|\$\(|`|\(|\)")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def secret_arguments(command: str, secrets: Iterable[str]) -> list[tuple[str, str]]:
    """``(secret name, program)`` for each secret placeholder given as an argument of a program."""
    names = set(secrets)
    found: list[tuple[str, str]] = []
    if not names:
        return found
    for segment in _SEPARATORS.split(command):
        used = [n for n in placeholders(segment) if n in names]
        if not used:
            continue
        words = _words(segment)
        while words and _ASSIGNMENT.match(words[0]):
            words = words[1:]  # NAME=value before the program: its environment, not its argv
        if not words or words[0] in _BUILTINS:
            continue
        program = words[0]
        for name in used:
            if any(name in placeholders(w) for w in words[1:]) and (name, program) not in found:
                found.append((name, program))
    return found


def _words(segment: str) -> list[str]:
    try:
        return shlex.split(segment, comments=True)
    except ValueError:  # an unbalanced quote across separators: fall back to blanks
        return segment.split()


def warning_text(step_id: str, name: str, program: str) -> str:
    """The load-time warning for one secret handed to one program."""
    return (
        f"step {step_id!r} passes the secret parameter {name} as an argument of {program}, and `ps` "
        f"shows a program's arguments to every user; pass it in a file (curl -H @file, --password-file) "
        f"or in the environment instead"
    )


def secret_argument_warnings(
    procedures: Iterable[Procedure], parameters: Iterable[Parameter]
) -> list[tuple[Step, str]]:
    """``(step, warning)`` for each shell command that hands a secret to a program as an argument."""
    secrets = [p.name for p in parameters if p.secret]
    found: list[tuple[Step, str]] = []
    if not secrets:
        return found
    for procedure in procedures:
        for step in (*procedure.prechecks, *procedure.steps, *procedure.verification):
            command = getattr(step.spec, "command", None)
            if isinstance(command, str):
                found.extend(
                    (step, warning_text(step.id, n, p)) for n, p in secret_arguments(command, secrets)
                )
    return found
