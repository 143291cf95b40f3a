"""Wording: Markdown emphasis, titles, slugs, ids, and the raw source text of blocks."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .blocks import Block, Fence, ListBlock, Paragraph, Quote


@dataclass(frozen=True)
class Source:
    """The Markdown lines, to keep parts of them verbatim."""

    lines: list[str]

    def raw(self, start: int, end: int) -> str:
        """Source lines ``start``..``end`` (1-based, inclusive), without the heading line."""
        return "\n".join(self.lines[start:end]).strip("\n")

    def raw_fence(self, fence: Fence, *, with_mark: bool = False) -> str:
        """A fence's lines as written (with its opening mark when ``with_mark``)."""
        start = fence.line - 1 if with_mark else fence.line
        return self.raw(start, fence.line + fence.code.count("\n") + 1)


def raw_block(block: Block) -> str:
    """A block as text: paragraphs as written, fences with their marks, lists and tables flattened."""
    if isinstance(block, Paragraph | Quote):
        return block.text
    if isinstance(block, Fence):
        return f"```{block.info}\n{block.code}```"
    if isinstance(block, ListBlock):
        return "\n".join(f"- {i.text}" for i in block.items)
    return "\n".join(" | ".join(r) for r in [block.header, *block.rows])


def strip_md(text: str) -> str:
    """``**bold**`` and ``*em*`` -> their text."""
    text = re.sub(r"\*\*([^*]+)\*\*", r"\1", text)
    text = re.sub(r"(?<!\w)\*([^*]+)\*", r"\1", text)
    return text.strip()


def clean_title(text: str) -> str:
    """A heading without emphasis and without its ``1.`` numbering."""
    text = strip_md(text)
    return re.sub(r"^(?:\d+[.)]\s*)", "", text).strip()


def slug(text: str) -> str:
    """An id: lower case, words joined by ``-``, at most 60 characters."""
    made = re.sub(r"[^a-z0-9]+", "-", strip_md(text).lower()).strip("-")
    return made[:60].rstrip("-") or "item"


def step_title(heading: str) -> str:
    """``Step 1: Verify (30 seconds)`` -> ``Verify (30 seconds)``."""
    return re.sub(r"^step\s+\d+\s*[:.)-]\s*", "", heading, flags=re.I) or heading


def procedure_id(title: str) -> str:
    """``Procedure 1: Feature Flag Toggle (Partial Rollback)`` -> ``feature-flag-toggle``."""
    short = re.sub(r"^procedure\s+\d+\s*:\s*", "", title, flags=re.I)
    short = re.sub(r"\s*\([^)]*\)\s*$", "", short)
    return slug(short or title)


def unique(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... the first not in ``taken``."""
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def join(a: str | None, b: str | None) -> str:
    """The non-empty ones of ``a`` and ``b``, one per line."""
    return "\n".join(x for x in (a, b) if x)


def looks_like(title: str, *words: str) -> bool:
    """Whether ``title`` contains any of ``words`` (case-insensitive)."""
    low = title.lower()
    return any(w in low for w in words)
