"""Parameters: a description from the prose around each placeholder, a value the prose
states as a suggestion (pre-filled, never used unasked), an example, and the report's why."""

from __future__ import annotations

import re

from . import shell_blocks as sb
from .drafts import Context, ParameterDraft
from .text import strip_md

_EXAMPLE = re.compile(r"\b(?:for example|e\.g\.|such as|like)\s*,?\s*`([^`\s]+)`", re.I)
_FENCE_MARK = re.compile(r"^\s*(`{3,}|~{3,})")


def prose_lines(lines: list[str]) -> list[tuple[int, str]]:
    """(line number, text) of every line outside fenced code."""
    out: list[tuple[int, str]] = []
    fence = ""
    for number, text in enumerate(lines, start=1):
        mark = _FENCE_MARK.match(text)
        if mark and (not fence or mark.group(1)[0] == fence[0]):
            fence = "" if fence else mark.group(1)
            continue
        if not fence and text.strip():
            out.append((number, text))
    return out


def code_text(lines: list[str]) -> str:
    """The lines inside fenced code (others blanked out of the join), to find names it assigns."""
    prose = {n for n, _t in prose_lines(lines)}
    prose.update(n for n, t in enumerate(lines, start=1) if _FENCE_MARK.match(t))
    return "\n".join(t for n, t in enumerate(lines, start=1) if n not in prose)


def describe_parameters(ctx: Context) -> list[ParameterDraft]:
    """Every parameter met, described from the prose that mentions it."""
    prose = prose_lines(ctx.source.lines)
    drafts = []
    for param in ctx.params.declared.values():
        _describe(param, prose)
        ctx.note(param.line, _why(param))
        drafts.append(param)
    return drafts


def _describe(param: ParameterDraft, prose: list[tuple[int, str]]) -> None:
    name, form, fields = param.name, param.form, param.fields
    word = re.compile(r"(?<![\w-])" + re.sub(r"[_-]", "[ _-]", re.escape(name)) + r"(?![\w-])", re.I)
    mentions = [(n, t) for n, t in prose if (form and form in t) or word.search(t)]
    mentions.sort(key=lambda m: not (form and form in m[1]))
    if mentions and not fields.get("description"):
        fields["description"] = strip_md(mentions[0][1]).replace("`", "")[:200]
    elif not fields.get("description"):
        fields["description"] = f"Fill in {form or name}: a placeholder in the runbook (line {param.line})"
    said = _suggestion(name, mentions)
    if said and "default" not in fields:
        fields["suggestion"], param.said = said
    example = next((m.group(1) for _n, t in mentions[:1] if (m := _EXAMPLE.search(t))), None)
    if example and sb.safe_value(example):
        fields.setdefault("example", example)


def _suggestion(name: str, mentions: list[tuple[int, str]]) -> tuple[str, int] | None:
    """``NAMESPACE is `payments``` -> (payments, line): a value the prose gives, to pre-fill."""
    spelled = re.sub(r"[_-]", "[ _-]", re.escape(name))
    said = re.compile(
        r"(?<![\w-])`?(?:\$\{?|<|\[)?"
        + spelled
        + r"(?:\}|>|\])?`?\s*(?:is|=|should be|defaults to|:)\s*`([^`\s]+)`",
        re.I,
    )
    for number, text in mentions:
        match = said.search(text)
        if match and sb.safe_value(match.group(1)):
            return match.group(1), number
    return None


def _why(param: ParameterDraft) -> str:
    fields = param.fields
    text = f"parameter {param.name}: from `{param.form or param.name}`"
    if "default" in fields:
        return text + f", default {fields['default']!r} (assigned in the runbook)"
    text += ", not set by the runbook: asked before the run"
    if "suggestion" in fields:
        text += f"; suggested {fields['suggestion']!r} (line {param.said}), pre-filled, never used unasked"
    return text
