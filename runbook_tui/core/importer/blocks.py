"""Markdown -> a small tree of sections and blocks, every block with its source line.

markdown-it-py does the parsing (CommonMark plus tables, so setext headings and
tilde fences come for free); this module only reshapes its token stream into
what the importer reasons about: sections by heading, and inside them
paragraphs, lists (with nested blocks), fenced code and tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token


@dataclass
class Paragraph:
    text: str
    line: int  # 1-based


@dataclass
class Fence:
    info: str
    code: str
    line: int  # line of the opening fence; code starts on line + 1

    @property
    def lang(self) -> str:
        return self.info.split("{", 1)[0].strip().split(" ", 1)[0].lower()

    @property
    def attributes(self) -> dict[str, str]:
        """Runme-style cell attributes: ```sh { name=restart interactive=false }."""
        if "{" not in self.info:
            return {}
        inner = self.info.split("{", 1)[1].rsplit("}", 1)[0]
        if inner.strip().startswith('"'):
            # Runme's JSON form: ```sh {"name":"restart","interactive":false}
            try:
                loaded = json.loads("{" + inner + "}")
            except ValueError:
                loaded = None
            if isinstance(loaded, dict):
                return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in loaded.items()}
        pairs = (part.split("=", 1) for part in inner.replace(",", " ").split() if "=" in part)
        return {k.strip(): v.strip().strip("\"'") for k, v in pairs}


@dataclass
class ListItem:
    text: str  # the item's first paragraph
    line: int
    checked: bool | None = None  # None when it is not a checkbox
    blocks: list[Block] = field(default_factory=list)  # nested content after the first paragraph


@dataclass
class ListBlock:
    ordered: bool
    items: list[ListItem]
    line: int


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    line: int
    row_lines: list[int] = field(default_factory=list)


@dataclass
class Quote:
    text: str
    line: int


Block = Paragraph | Fence | ListBlock | Table | Quote


@dataclass
class Section:
    title: str
    level: int  # 0 for the document itself
    line: int
    end_line: int = 0  # last line of the section (inclusive), filled after parsing
    blocks: list[Block] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)


_PARSER = MarkdownIt("commonmark").enable("table")


def parse(text: str, line_offset: int = 0) -> Section:
    """The document as a section tree; ``line_offset`` accounts for stripped front matter."""
    tokens = _PARSER.parse(text)
    root = Section(title="", level=0, line=1 + line_offset)
    stack = [root]
    pos = 0
    while pos < len(tokens):
        tok = tokens[pos]
        if tok.type == "heading_open":
            level = int(tok.tag[1])
            section = Section(tokens[pos + 1].content.strip(), level, _line(tok, line_offset))
            while stack[-1].level >= level:
                stack.pop()
            stack[-1].children.append(section)
            stack.append(section)
            pos += 3
            continue
        block, pos = _block(tokens, pos, line_offset)
        if block is not None:
            stack[-1].blocks.append(block)
    _close_ends(root, len(text.splitlines()) + line_offset)
    return root


def _line(tok: Token, offset: int) -> int:
    return (tok.map[0] if tok.map else 0) + 1 + offset


def _close_ends(section: Section, end: int) -> None:
    for i, child in enumerate(section.children):
        nxt = section.children[i + 1].line - 1 if i + 1 < len(section.children) else end
        _close_ends(child, nxt)
    section.end_line = end


def _block(tokens: list[Token], pos: int, offset: int) -> tuple[Block | None, int]:
    """Read one block starting at ``tokens[pos]``; returns it and the next position."""
    tok = tokens[pos]
    if tok.type == "paragraph_open":
        return Paragraph(tokens[pos + 1].content, _line(tok, offset)), pos + 3
    if tok.type in ("fence", "code_block"):
        return Fence(tok.info.strip(), tok.content, _line(tok, offset)), pos + 1
    if tok.type in ("bullet_list_open", "ordered_list_open"):
        return _list(tokens, pos, offset)
    if tok.type == "table_open":
        return _table(tokens, pos, offset)
    if tok.type == "blockquote_open":
        end = _matching(tokens, pos)
        text = "\n".join(t.content for t in tokens[pos:end] if t.type == "inline")
        return Quote(text, _line(tok, offset)), end + 1
    return None, pos + 1


def _matching(tokens: list[Token], pos: int) -> int:
    """Index of the token closing the one at ``pos``."""
    depth = 0
    for i in range(pos, len(tokens)):
        depth += tokens[i].nesting
        if depth == 0:
            return i
    return len(tokens) - 1


def _list(tokens: list[Token], pos: int, offset: int) -> tuple[ListBlock, int]:
    end = _matching(tokens, pos)
    block = ListBlock(tokens[pos].type == "ordered_list_open", [], _line(tokens[pos], offset))
    i = pos + 1
    while i < end:
        if tokens[i].type != "list_item_open":
            i += 1
            continue
        item_end = _matching(tokens, i)
        block.items.append(_item(tokens, i, item_end, offset))
        i = item_end + 1
    return block, end + 1


def _item(tokens: list[Token], start: int, end: int, offset: int) -> ListItem:
    item = ListItem("", _line(tokens[start], offset))
    i = start + 1
    first = True
    while i < end:
        if first and tokens[i].type == "paragraph_open":
            item.text = tokens[i + 1].content
            i += 3
            first = False
            continue
        first = False
        block, i = _block(tokens, i, offset)
        if block is not None:
            item.blocks.append(block)
    for mark, state in (("[ ] ", False), ("[x] ", True), ("[X] ", True)):
        if item.text.startswith(mark):
            item.text, item.checked = item.text[len(mark) :], state
    return item


def _table(tokens: list[Token], pos: int, offset: int) -> tuple[Table, int]:
    end = _matching(tokens, pos)
    header: list[str] = []
    rows: list[list[str]] = []
    row_lines: list[int] = []
    current: list[str] | None = None
    in_head = False
    for tok in tokens[pos:end]:
        if tok.type == "thead_open":
            in_head = True
        elif tok.type == "thead_close":
            in_head = False
        elif tok.type == "tr_open":
            current = []
            if not in_head:
                row_lines.append(_line(tok, offset))
        elif tok.type == "inline" and current is not None:
            current.append(tok.content.strip())
        elif tok.type == "tr_close" and current is not None:
            if in_head:
                header = current
            else:
                rows.append(current)
            current = None
    return Table(header, rows, _line(tokens[pos], offset), row_lines), end + 1


def walk(section: Section) -> list[Section]:
    """The section and all its descendants, in document order."""
    out = [section]
    for child in section.children:
        out.extend(walk(child))
    return out
