"""Parameters: placeholders, validation that fails closed, quoting, redaction.

A placeholder is ``{{name}}`` (an identifier; ``{{.Tag}}`` and ``${{ x }}`` are left
alone). Values are data, never code: a shell step gets each parameter as an environment
variable and its command refers to it (``{{tag}}`` runs as ``"${tag}"``), so ``v1; rm -rf ~``
is never read by the shell. Only what is shown to a reader has the values spliced in.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping

from . import shell_syntax
from .errors import ParameterError
from .model import Parameter

PLACEHOLDER = re.compile(r"(?<!\$)\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
REDACTED = "••••••"


def placeholders(text: str) -> list[str]:
    """Names used in ``text``, in order of first use."""
    seen: dict[str, None] = {}
    for match in PLACEHOLDER.finditer(text):
        seen.setdefault(match.group(1), None)
    return list(seen)


def render(text: str, values: Mapping[str, str], *, shell: bool = False) -> str:
    """Fill placeholders. A missing value raises :class:`ParameterError`.

    Plain text gets the values themselves (titles, messages, and the command as shown to
    a reader). ``shell=True`` gives the command that RUNS: each ``{{name}}`` becomes a
    quoted reference to the environment variable ``name`` (see :func:`shell_command`),
    so no value is ever read as shell code.
    """
    for name in placeholders(text):
        if name not in values:
            raise ParameterError(name, "has no value; give it with --param or in the form")
    if shell:
        return shell_command(text)
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def shell_command(text: str) -> str:
    """``text`` with each ``{{name}}`` as a variable reference quoted for where it stands.

    Bare it is ``"${name}"`` (one word, never split or globbed); inside double quotes, an
    unquoted here-document or a comment it is ``${name}``. Where nothing expands (single
    quotes, ``$'...'``, ``<<'EOF'``), in arithmetic (where bash evaluates a value as code)
    or where the parser cannot read the command, it raises: the loader reports the same.
    """
    out: list[str] = []
    pos = 0
    for use in shell_syntax.placeholder_uses(text):
        problem = shell_problem(use)
        if problem is not None:
            raise ParameterError(use.name, problem)
        out.append(text[pos : use.start])
        bare = use.quoting is shell_syntax.Quoting.BARE
        out.append(f'"${{{use.name}}}"' if bare else f"${{{use.name}}}")
        pos = use.end
    out.append(text[pos:])
    return "".join(out)


def shell_problem(use: shell_syntax.PlaceholderUse) -> str | None:
    """Why ``use`` cannot become a variable reference, with the fix; None when it can."""
    q = shell_syntax.Quoting
    if use.quoting is q.LITERAL:
        return (
            f"is used {use.why}, where the shell expands nothing, so its value would never arrive; "
            f"close the quotes around it ('text '{{{{{use.name}}}}}' more'), or use double quotes "
            "or an unquoted <<EOF"
        )
    if use.quoting is q.ARITHMETIC:
        return (
            f"is used {use.why}; compute outside bash arithmetic (awk, expr) "
            f"or pass the value through a program that checks it is a number"
        )
    if use.quoting is q.UNPARSED:
        return f"is used {use.why}; fix the command's shell syntax so runbook-tui can tell how to quote it"
    return None


# Names the shell, the dynamic loader or runbook-tui give meaning to: a parameter exported
# under one of these would change how every step runs, not just what it is given.
RESERVED_NAMES = frozenset(
    {
        "PATH", "IFS", "HOME", "ENV", "BASH_ENV", "SHELLOPTS", "BASHOPTS", "PS1", "PS2", "PS3",
        "PS4", "PWD", "OLDPWD", "CDPATH", "GLOBIGNORE", "PROMPT_COMMAND", "SHELL", "SHLVL",
        "TMOUT", "POSIXLY_CORRECT", "HISTFILE", "INPUTRC", "PAGER", "GIT_PAGER", "SYSTEMD_PAGER",
        "TERM", "COLUMNS", "LINES", "UID", "EUID", "PPID", "RANDOM", "SECONDS", "LINENO",
    }
)  # fmt: skip
RESERVED_PREFIXES = ("LD_", "BASH_", "RUNBOOK_TUI_")


def reserved_name(name: str) -> bool:
    """True when ``name`` may not be a parameter (the shell or loader reads it)."""
    return name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES)


def render_url(url: str, values: Mapping[str, str]) -> str:
    """``url`` with values filled as data: scheme, host and port come only from the runbook.

    A URL that is one placeholder (``{{base_url}}``) or starts with one takes that value
    as written. Otherwise each value is percent-encoded for its component, so
    ``http://host/{{x}}`` with ``x=@evil.com/`` stays on ``host``.
    """
    for name in placeholders(url):
        if name not in values:
            raise ParameterError(name, "has no value; give it with --param or in the form")
    lead = PLACEHOLDER.match(url)
    if lead is not None:
        # The runbook hands the whole origin to the parameter; what follows is still encoded.
        head = values[lead.group(1)]
        return head + _encoded(url[lead.end() :], values)
    return _encoded(url, values)


def _encoded(text: str, values: Mapping[str, str]) -> str:
    """Each value percent-encoded whole: no ``/ : @ ? #`` of a value can start a new component."""
    return PLACEHOLDER.sub(lambda m: urllib.parse.quote(values[m.group(1)], safe=""), text)


def validate(param: Parameter, value: str | None, *, choices: Iterable[str] = ()) -> str:
    """The value to use, or :class:`ParameterError`. Every rule applies; none fails open."""
    if value is None or value == "":
        if param.default is not None:
            value = param.default
        elif param.required:
            raise ParameterError(param.name, "is required" + _hint(param))
        else:
            return ""
    if "\n" in value or "\x00" in value:
        raise ParameterError(param.name, "must be one line of text")
    allowed = tuple(param.choices) + tuple(choices)
    if param.choices and value not in allowed:
        raise ParameterError(param.name, f"{value!r} is not one of {', '.join(allowed)}")
    if param.pattern is not None:
        try:
            ok = re.fullmatch(param.pattern, value) is not None
        except re.error as exc:
            # A broken rule must not let everything through.
            raise ParameterError(param.name, f"its pattern is invalid ({exc}); fix the runbook") from exc
        if not ok:
            raise ParameterError(param.name, f"{value!r} does not match {param.pattern}" + _hint(param))
    return value


def _hint(param: Parameter) -> str:
    if param.example:
        return f" (for example {param.example})"
    if param.choices:
        return f" (one of {', '.join(param.choices)})"
    return ""


class Redactor:
    """Replaces secret values in any text before it is written or shown."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        for value in secrets:
            self.add(value)

    def add(self, value: str) -> None:
        # Very short secrets would redact half of every line; they are still hidden where asked.
        if value and value not in self._secrets:
            self._secrets.append(value)
            self._secrets.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def __bool__(self) -> bool:
        return bool(self._secrets)
