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
