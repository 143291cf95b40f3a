"""Parameters: placeholders, validation that fails closed, quoting, redaction.

A placeholder is ``{{name}}`` (an identifier; ``{{.Tag}}`` and ``${{ x }}`` are left
alone). Values are data, never code: a shell step gets each parameter as an environment
variable and its command refers to it (``{{tag}}`` runs as ``"${tag}"``), so ``v1; rm -rf ~``
is never read by the shell. Only what is shown to a reader has the values spliced in.
"""

from __future__ import annotations

import re
import shlex
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
    """The value to use, or :class:`ParameterError`. Every rule applies; none fails open.

    A value is one line of plain text (see :func:`text_problem`). A secret's value
    never appears in the error: it names the rule that failed, not what was given.
    """
    if value is None or value == "":
        if param.default is not None:
            value = param.default
        elif param.required:
            raise ParameterError(param.name, "is required" + _hint(param))
        else:
            return ""
    problem = text_problem(value)
    if problem:
        raise ParameterError(param.name, problem)
    shown = "its value" if param.secret else repr(value)
    allowed = tuple(param.choices) + tuple(choices)
    if param.choices and value not in allowed:
        raise ParameterError(param.name, f"{shown} is not one of {', '.join(allowed)}")
    if param.pattern is not None:
        try:
            ok = re.fullmatch(param.pattern, value) is not None
        except re.error as exc:
            # A broken rule must not let everything through.
            raise ParameterError(param.name, f"its pattern is invalid ({exc}); fix the runbook") from exc
        if not ok:
            raise ParameterError(param.name, f"{shown} does not match {param.pattern}" + _hint(param))
    return value


# Characters that change what a reader sees without being seen: they are refused in values.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")


def text_problem(value: str) -> str:
    """Why ``value`` is not one line of plain text ("" when it is).

    Refused: text that was not valid UTF-8 (argv decodes such bytes to lone
    surrogates), C0 controls including tab, DEL, C1 controls, bidirectional marks,
    overrides and isolates, and zero-width characters. So a value round-trips through
    the journal exactly and shows on screen as what it is. The message names the
    character by code point, never the value (it may be a secret).
    """
    for index, ch in enumerate(value):
        code = ord(ch)
        where = f"U+{code:04X} at character {index + 1}"
        if 0xD800 <= code <= 0xDFFF:
            return f"is not valid UTF-8 text ({where}); give it as UTF-8"
        if ch == "\n":
            return "must be one line of text"
        if code < 0x20 or code == 0x7F or 0x80 <= code <= 0x9F:
            return f"contains a control character ({where}); values are one line of plain text"
        if ch in _BIDI:
            return f"contains a bidirectional control ({where}); it could make the text read differently"
        if ch in _ZERO_WIDTH:
            return f"contains a zero-width character ({where}); it could hide text"
    return ""


def _hint(param: Parameter) -> str:
    if param.example:
        return f" (for example {param.example})"
    if param.choices:
        return f" (one of {', '.join(param.choices)})"
    return ""


class Redactor:
    """Replaces secret values, and their common encodings, in any text before it is written or shown.

    Each secret is also looked for shell-quoted (``shlex.quote``), JSON-escaped,
    URL-encoded (``quote`` and ``quote_plus``), and base64-encoded (standard and
    URL-safe, with and without padding), as is the base64 of ``PREFIX + secret`` for
    the prefixes of HTTP basic auth (``user:secret``): any of the three alignments
    of the secret inside a longer base64 text is caught by its stable core.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        self._forms: list[str] = []
        for value in secrets:
            self.add(value)

    def add(self, value: str) -> None:
        # Very short secrets would redact half of every line; they are still hidden where asked.
        if value and value not in self._secrets:
            self._secrets.append(value)
            found = set(self._forms)
            found.update(f for f in encoded_forms(value) if f)
            self._forms = sorted(found, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        return text

    def __bool__(self) -> bool:
        return bool(self._secrets)


MIN_ENCODED = 4  # an encoded core shorter than this would match ordinary text


def encoded_forms(secret: str) -> set[str]:
    """``secret`` and the forms it takes in logs and headers (see :class:`Redactor`)."""
    import base64
    import json
    from urllib.parse import quote, quote_plus

    forms = {secret, shlex.quote(secret), json.dumps(secret)[1:-1]}
    forms.add(json.dumps(secret, ensure_ascii=False)[1:-1])
    forms.update({quote(secret, safe=""), quote(secret), quote_plus(secret)})
    raw = secret.encode("utf-8", "surrogateescape")
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode("ascii")
        forms.update({whole, whole.rstrip("=")})
        # Inside a longer base64 text (``user:secret``) the secret starts at byte offset
        # 0, 1 or 2 of a 3-byte group; the whole groups it fills encode the same way
        # whatever comes before, so that core is found wherever the secret sits.
        for shift in range(3):
            padded = b"\0" * shift + raw
            usable = (len(padded) // 3) * 3
            first = 3 if shift else 0  # the group mixing the prefix is not stable
            core = encode(padded[first:usable]).decode("ascii")
            if len(core) >= max(MIN_ENCODED, len(secret)):
                forms.add(core)
    # An encoded form shorter than MIN_ENCODED would hide ordinary text; the secret itself always counts.
    return {f for f in forms if len(f) >= MIN_ENCODED} | {secret}
