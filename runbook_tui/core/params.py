"""Parameters: placeholders, validation that fails closed, quoting, redaction.

A placeholder is ``{{name}}`` (an identifier; ``{{.Tag}}`` and ``${{ x }}`` are left
alone). In shell commands a value is substituted shell-quoted, so ``v1; rm -rf ~``
stays one inert word.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

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
    """Fill placeholders; in shell text each value stays one inert word. A missing value raises."""

    def value_of(name: str) -> str:
        if name not in values:
            raise ParameterError(name, "has no value; give it with --param or in the form")
        return values[name]

    if not shell:
        return PLACEHOLDER.sub(lambda m: value_of(m.group(1)), text)
    heredocs = _heredoc_bodies(text)
    out: list[str] = []
    pos = 0
    for match in PLACEHOLDER.finditer(text):
        value = value_of(match.group(1))
        out.append(text[pos : match.start()])
        body = next((h for h in heredocs if h.start <= match.start() < h.end), None)
        if body is None:
            out.append(_shell_quoted(value, _quote_state(text, match.start(), heredocs)))
        else:
            out.append(_heredoc_quoted(match.group(1), value, body))
        pos = match.end()
    out.append(text[pos:])
    return "".join(out)


@dataclass(frozen=True, slots=True)
class _Heredoc:
    start: int  # offsets of the body in the command text
    end: int
    delimiter: str
    quoted: bool  # <<'EOF': the body is literal; <<EOF: $ ` \\ still act in it


_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")


def _heredoc_bodies(text: str) -> list[_Heredoc]:
    """Where here-document bodies are; quotes inside them are text, not shell quoting."""
    bodies: list[_Heredoc] = []
    for match in _HEREDOC.finditer(text):
        body_start = text.find("\n", match.end())
        if body_start < 0 or any(b.start <= match.start() < b.end for b in bodies):
            continue
        body_start += 1
        end_match = re.compile(r"^\t*" + re.escape(match.group(2)) + r"[ \t]*$", re.M).search(
            text, body_start
        )
        body_end = end_match.start() if end_match else len(text)
        bodies.append(_Heredoc(body_start, body_end, match.group(2), bool(match.group(1))))
    return bodies


def _heredoc_quoted(name: str, value: str, body: _Heredoc) -> str:
    if value.strip() == body.delimiter:
        raise ParameterError(name, f"cannot be {value!r}: that word ends the here-document it is used in")
    if body.quoted:
        return value
    return "".join("\\" + ch if ch in "$`\\" else ch for ch in value)


def _quote_state(text: str, end: int, heredocs: list[_Heredoc]) -> str:
    """The shell quoting in force at ``text[end]``: "", "'" or '"'."""
    state = ""
    i = 0
    while i < end:
        body = next((h for h in heredocs if h.start == i), None)
        if body is not None and not state:
            i = body.end
            continue
        ch = text[i]
        if state == "'":
            state = "" if ch == "'" else state
        elif ch == "\\":
            i += 1  # the next character is escaped (also inside double quotes, for $ ` " \\)
        elif state == '"':
            state = "" if ch == '"' else state
        elif ch in "'\"":
            state = ch
        i += 1
    return state


def _shell_quoted(value: str, state: str) -> str:
    """``value`` as literal text wherever it lands: bare, in 'single' or in "double" quotes."""
    if state == "'":
        return "'" + shlex.quote(value) + "'"  # close, a quoted word, reopen
    if state == '"':
        # Inside double quotes only $ ` " \\ are special; escaped, nothing is evaluated.
        return "".join("\\" + ch if ch in '$`"\\' else ch for ch in value)
    return shlex.quote(value)


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
