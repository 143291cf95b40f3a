"""Nothing lost: every fence line and list item of the source must land somewhere."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from . import shell_blocks as sb
from .blocks import Fence, ListBlock, Section, parse
from .drafts import ParameterDraft


def unplaced_lines(markdown: str, data: dict[str, Any]) -> list[tuple[int, str]]:
    """Source lines (fence lines, list items) found nowhere in the imported ``data``."""
    blob = _normalise("\n".join(_strings(data)))
    params = sb.Params()
    for param in data.get("parameters", []):
        fields = {k: v for k, v in param.items() if k != "name"}
        params.declared[param["name"]] = ParameterDraft(0, param["name"], "", fields)
    for var in re.findall(r"^\s*(?:export\s+)?([A-Z][A-Z0-9_]*)=", markdown, re.M):
        params.shell_vars[var] = var.lower()
    missing = []
    for line, text in _source_lines(markdown):
        candidates = {_normalise(text), _normalise(sb.substitute(text, params, line))}
        if not any(c in blob for c in candidates):
            missing.append((line, text))
    return missing


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _normalise(text: str) -> str:
    text = re.sub(r"\*\*|`", "", text)
    text = re.sub(r"^\s*#+\s*", "", text, flags=re.M)
    text = re.sub(r"^\s*(?:[-*]|\d+[.)])\s+", "", text, flags=re.M)
    return re.sub(r"\s+", " ", text).strip().rstrip(":")


def _source_lines(markdown: str) -> Iterator[tuple[int, str]]:
    root = parse(_without_front_matter(markdown)[0], _without_front_matter(markdown)[1])
    yield from _section_lines(root)


def _section_lines(section: Section) -> Iterator[tuple[int, str]]:
    for block in section.blocks:
        yield from _block_lines(block)
    for child in section.children:
        yield from _section_lines(child)


def _block_lines(block: object) -> Iterator[tuple[int, str]]:
    if isinstance(block, Fence):
        for offset, text in enumerate(block.code.splitlines()):
            stripped = text.strip().lstrip("#").strip()
            if stripped and not re.fullmatch(r"[-=#*_ ]+", stripped):
                yield block.line + 1 + offset, text.strip()
    elif isinstance(block, ListBlock):
        for item in block.items:
            if item.text.strip():
                yield item.line, item.text.strip()
            for nested in item.blocks:
                yield from _block_lines(nested)


def _without_front_matter(markdown: str) -> tuple[str, int]:
    if not markdown.startswith("---"):
        return markdown, 0
    lines = markdown.splitlines(keepends=True)
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "".join(lines[i + 1 :]), i + 1
    return markdown, 0
