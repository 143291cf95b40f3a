"""A shell block as top-level statements, read with a real shell grammar (tree-sitter-bash).

The importer splits a fenced block into steps at comments. A ``#`` inside a heredoc,
a ``for`` loop, a function, a ``case`` or a quoted string is not a step boundary, and
a statement's lines are kept byte for byte (indentation included), so YAML and JSON
bodies survive. When the grammar cannot read the block (a half-written snippet), a
conservative line scanner that knows heredocs, quotes and block keywords takes over.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import tree_sitter_bash
from tree_sitter import Language, Node, Parser

# ``<name>`` placeholders read as redirections; masked to the same length before parsing.
_ANGLE = re.compile(r"<([a-zA-Z][a-zA-Z0-9_-]*)>")
_HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")
_OPENERS = re.compile(r"^(?:for|while|until|if|case|select)\b|\{\s*$|\bdo\s*$|\bthen\s*$|\(\)\s*\{?\s*$")
_CLOSERS = re.compile(r"^(?:done|fi|esac|\})\b")


@dataclass(frozen=True)
class Statement:
    """Rows ``start``..``end`` (0-based, inclusive) of the block; a comment or code."""

    start: int
    end: int
    text: str  # the source lines, byte for byte
    comment: bool


@lru_cache(maxsize=1)
def _parser() -> Parser:
    return Parser(Language(tree_sitter_bash.language()))


@lru_cache(maxsize=512)
def statements(code: str) -> tuple[Statement, ...]:
    """The block's top-level statements in order; own-line comments are their own statements."""
    lines = code.splitlines()
    masked = _ANGLE.sub(lambda m: "_" + m.group(1) + "_", code)
    tree = _parser().parse(masked.encode())
    spans = _scan(lines) if tree.root_node.has_error else _spans(tree.root_node, lines)
    return tuple(Statement(s, e, "\n".join(lines[s : e + 1]), c) for s, e, c in spans)


def _spans(root: Node, lines: list[str]) -> list[tuple[int, int, bool]]:
    spans: list[tuple[int, int, bool]] = []
    for child in root.children:
        start, end = child.start_point[0], child.end_point[0]
        if child.end_point[1] == 0 and end > start:
            end -= 1  # a node ending at column 0 ends on the line before
        own_line_comment = child.type == "comment" and not lines[start][: child.start_point[1]].strip()
        if spans and start <= spans[-1][1]:
            # Shares a line with the previous statement (``a; b``, ``cmd  # note``): one unit.
            s, e, c = spans[-1]
            spans[-1] = (s, max(e, end), c and child.type == "comment")
            continue
        spans.append((start, end, own_line_comment))
    return spans


def _scan(lines: list[str]) -> list[tuple[int, int, bool]]:
    """Fallback: split at lines outside heredocs, quotes, continuations and blocks."""
    spans: list[tuple[int, int, bool]] = []
    start: int | None = None
    heredoc: str | None = None
    quote = ""
    depth = 0
    for row, raw in enumerate(lines):
        text = raw.strip()
        if heredoc is not None:
            if text == heredoc:
                heredoc = None
                if start is not None and not quote and depth == 0 and not raw.endswith("\\"):
                    spans.append((start, row, False))
                    start = None
            continue
        if start is None:
            if not text:
                continue
            if text.startswith("#"):
                spans.append((row, row, True))
                continue
            start = row
        quote = _quote_state(raw, quote)
        match = _HEREDOC.search(raw) if not quote else None
        if match:
            heredoc = match.group(2)
        if not quote:
            if _CLOSERS.match(text):
                depth = max(0, depth - 1)
            if _OPENERS.search(text) and not re.search(r"\b(?:done|fi|esac)\s*;?\s*$|\}\s*;?\s*$", text):
                depth += 1
        if heredoc is None and not quote and depth == 0 and not raw.endswith("\\"):
            spans.append((start, row, False))
            start = None
    if start is not None:
        spans.append((start, len(lines) - 1, False))
    return spans


def _quote_state(line: str, state: str) -> str:
    """The open quote (``'`` or ``"``) at the end of ``line``, given the one it started in."""
    i = 0
    while i < len(line):
        ch = line[i]
        if state == "'":
            state = "" if ch == "'" else state
        elif ch == "\\":
            i += 1
        elif state == '"':
            state = "" if ch == '"' else state
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            break  # a comment: the rest of the line is not code
        elif ch in "'\"":
            state = ch
        i += 1
    return state


_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EXPANSION = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")
_ASSIGNED = re.compile(
    r"(?:^|[;&|({]\s*|\b(?:export|local|declare|readonly|typeset)\s+(?:-\w+\s+)*)([A-Za-z_][A-Za-z0-9_]*)\+?=",
    re.M,
)
_LOOP_VAR = re.compile(r"\b(?:for|select)\s+([A-Za-z_][A-Za-z0-9_]*)\s+in\b")
_READ_VARS = re.compile(r"\bread\s+((?:-[a-zA-Z]+\s+(?:\S+\s+)?)*)([A-Za-z_][A-Za-z0-9_ ]*)")


def expanded_names(code: str) -> list[str]:
    """Variables the block expands (``$X``, ``${X}``), outside single quotes, in order."""
    masked = _ANGLE.sub(lambda m: "_" + m.group(1) + "_", code)
    tree = _parser().parse(masked.encode())
    if tree.root_node.has_error:
        bare = re.sub(r"'[^'\n]*'", "''", code)
        return list(dict.fromkeys(_EXPANSION.findall(bare)))
    names: list[str] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type in ("simple_expansion", "expansion"):
            name = next((c for c in node.children if c.type == "variable_name"), None)
            if name is not None and name.text is not None and _IDENT.match(name.text.decode()):
                names.append(name.text.decode())
        if node.type == "heredoc_redirect" and _quoted_heredoc(node):
            continue  # <<'EOF' bodies are literal text
        stack.extend(reversed(node.children))
    return list(dict.fromkeys(names))


def _quoted_heredoc(node: Node) -> bool:
    start = next((c for c in node.children if c.type == "heredoc_start"), None)
    return start is not None and start.text is not None and start.text[:1] in (b"'", b'"')


def assigned_names(code: str) -> set[str]:
    """Variables the block sets itself: assignments, loop variables, ``read`` targets."""
    names = set(_ASSIGNED.findall(code)) | set(_LOOP_VAR.findall(code))
    for match in _READ_VARS.finditer(code):
        names.update(match.group(2).split())
    return names
