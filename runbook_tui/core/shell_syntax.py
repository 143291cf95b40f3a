"""Bash syntax, read by a real parser (tree-sitter-bash), for the rules that must not guess.

Parameters use it to know the quoting around each ``{{name}}`` (so the placeholder
becomes a correctly quoted variable reference, or a load error where nothing can
expand); the pre-flight uses it to list the programs a command runs and the variables
it reads without assigning. Offsets are character offsets into the text given.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tree_sitter import Node, Parser, Tree

# The same shape as params.PLACEHOLDER (kept here so this module imports nothing of ours).
_PLACEHOLDER = re.compile(r"(?<!\$)\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class Quoting(StrEnum):
    """What the shell does with text at a place in a command."""

    BARE = "bare"  # expansions happen and the result is split and globbed: quote it
    DOUBLE = "double"  # inside "..." or an unquoted here-document: expands, no splitting
    COMMENT = "comment"  # nothing runs; any text is fine
    LITERAL = "literal"  # '...', $'...', <<'EOF': nothing expands, a reference would stay text
    ARITHMETIC = "arithmetic"  # $(( )), (( )), a[...]: bash evaluates the value as code
    UNPARSED = "unparsed"  # the parser could not read the command around it


@dataclass(frozen=True, slots=True)
class PlaceholderUse:
    """One ``{{name}}`` in a command: where it is and what quoting surrounds it."""

    name: str
    start: int
    end: int
    quoting: Quoting
    why: str  # for a message: "inside single quotes", ...


@dataclass(frozen=True, slots=True)
class ProgramUse:
    """A program a command runs (the first word of a simple command)."""

    name: str
    start: int


@dataclass(frozen=True, slots=True)
class VariableUse:
    """A ``$VAR`` / ``${VAR}`` read that nothing earlier in the command assigned."""

    name: str
    start: int


@cache
def _parser() -> Parser:
    # Imported on first use: loading the grammar package costs tens of ms at start-up,
    # and only runbooks with shell placeholders (or a pre-flight) need it.
    import tree_sitter_bash
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_bash.language()))


def parse(text: str) -> Tree:
    """The syntax tree of ``text`` (byte offsets; see :func:`char_offset`)."""
    return _parser().parse(text.encode("utf-8"))


def char_offset(data: bytes, byte_offset: int) -> int:
    """The character offset of ``byte_offset`` in UTF-8 ``data``."""
    return len(data[:byte_offset].decode("utf-8", errors="replace"))


def placeholder_uses(text: str) -> list[PlaceholderUse]:
    """Every ``{{name}}`` in shell ``text`` with the quoting in force where it stands."""
    matches = list(_PLACEHOLDER.finditer(text))
    if not matches:
        return []
    # Each placeholder becomes a run of 'x' of the same byte length: a plain word that
    # sits in the same syntactic place, so byte offsets line up with the original.
    data = bytearray(text.encode("utf-8"))
    spans: list[tuple[int, int]] = []
    for match in matches:
        start = len(text[: match.start()].encode("utf-8"))
        end = start + len(match.group(0).encode("utf-8"))
        data[start:end] = b"x" * (end - start)
        spans.append((start, end))
    tree = _parser().parse(bytes(data))
    uses = []
    for match, (start, end) in zip(matches, spans, strict=True):
        node = tree.root_node.descendant_for_byte_range(start, end)
        quoting, why = _quoting(node, tree.root_node.has_error)
        uses.append(PlaceholderUse(match.group(1), match.start(), match.end(), quoting, why))
    return uses


_ARITHMETIC = frozenset({"arithmetic_expansion", "subscript", "c_style_for_statement"})


def _quoting(node: Node | None, has_error: bool) -> tuple[Quoting, str]:
    """The innermost quoting around ``node``: the first ancestor that decides it."""
    while node is not None:
        kind = node.type
        if kind == "ERROR":
            return Quoting.UNPARSED, "in a part of the command the shell parser cannot read"
        if kind in ("command_substitution", "process_substitution"):
            break  # a new command: quoting starts afresh inside $(...) and `...`
        if kind == "raw_string":
            return Quoting.LITERAL, "inside single quotes"
        if kind == "ansi_c_string":
            return Quoting.LITERAL, "inside $'...'"
        if kind in ("heredoc_start", "heredoc_end"):
            return Quoting.LITERAL, "as a here-document delimiter"
        if kind == "heredoc_body":
            if _heredoc_is_quoted(node):
                return Quoting.LITERAL, "inside a quoted here-document (<<'EOF')"
            return Quoting.DOUBLE, "inside a here-document"
        if kind == "string":
            return Quoting.DOUBLE, "inside double quotes"
        if kind == "comment":
            return Quoting.COMMENT, "in a comment"
        if kind in _ARITHMETIC or (kind == "compound_statement" and _first_token(node) == "(("):
            return Quoting.ARITHMETIC, "inside arithmetic, where bash evaluates the value as code"
        node = node.parent
    if has_error:
        return Quoting.UNPARSED, "in a command the shell parser cannot read"
    return Quoting.BARE, "bare"


def _first_token(node: Node) -> str:
    first = node.child(0)
    return first.type if first is not None else ""


def _heredoc_is_quoted(body: Node) -> bool:
    redirect = body.parent
    if redirect is None:
        return False
    for child in redirect.children:
        if child.type == "heredoc_start":
            return any(ch in (child.text or b"") for ch in b"'\"\\")
    return False


# --- what a command runs and reads (the pre-flight) --------------------------------

_DECLARES = frozenset({"declare", "local", "export", "readonly", "typeset"})
_READS_NAMES = frozenset({"read", "mapfile", "readarray", "getopts", "printf"})


def programs(text: str) -> list[ProgramUse]:
    """The programs ``text`` runs, in order, with functions it defines left out."""
    data = text.encode("utf-8")
    tree = _parser().parse(data)
    functions = {
        _node_text(n.child_by_field_name("name"))
        for n in _walk(tree.root_node)
        if n.type == "function_definition"
    }
    found = []
    for node in _walk(tree.root_node):
        if node.type != "command_name":
            continue
        word = node.child(0)
        # Only a literal word names a program; "$cmd" or "$(...)" is decided at run time.
        if word is None or word.type != "word" or node.child_count != 1:
            continue
        name = _node_text(word)
        if name and name not in functions:
            found.append(ProgramUse(name, char_offset(data, word.start_byte)))
    return found


def unassigned_variables(text: str) -> list[VariableUse]:
    """Variables ``text`` reads before anything in it assigns them (defaults count as set)."""
    data = text.encode("utf-8")
    tree = _parser().parse(data)
    assigned: set[str] = set()
    found: list[VariableUse] = []
    for node in _walk(tree.root_node):
        name = _assigns(node)
        if name:
            assigned.update(name)
            continue
        var = _reads(node)
        if var is not None and var not in assigned:
            found.append(VariableUse(var, char_offset(data, node.start_byte)))
            assigned.add(var)  # reported once
    return found


def _assigns(node: Node) -> set[str]:
    """Names ``node`` assigns: ``x=``, ``for x``, ``read x``, ``local x``, ..."""
    kind = node.type
    if kind == "variable_assignment":
        target = node.child_by_field_name("name") or node.child(0)
        if target is not None and target.type == "subscript":
            target = target.child(0)
        return {_node_text(target)} if target is not None else set()
    if kind in ("for_statement", "select_statement"):
        var = node.child_by_field_name("variable")
        return {_node_text(var)} if var is not None else set()
    if kind == "declaration_command":
        return {_node_text(c) for c in node.children if c.type in ("variable_name", "word")} - {""}
    if kind == "command":
        name_node = node.child_by_field_name("name")
        program = _node_text(name_node) if name_node is not None else ""
        if program in _READS_NAMES or program in _DECLARES or program == "unset":
            args = [c for c in node.children if c.type == "word" and c is not name_node]
            return {_node_text(a) for a in args if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", _node_text(a))}
    return set()


def _reads(node: Node) -> str | None:
    """The variable a ``$x`` / ``${x}`` node reads, or None (specials, defaults, lengths)."""
    if node.type not in ("simple_expansion", "expansion"):
        return None
    names = [c for c in node.children if c.type == "variable_name"]
    if len(names) != 1 or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", _node_text(names[0])):
        return None
    if node.type == "expansion":
        operators = {c.type for c in node.children if not c.is_named}
        # ${x:-d}, ${x-}, ${x:=d}, ${x+alt}, ${#x}, ${!x}: the command handles "unset" itself.
        if operators & {":-", "-", ":=", "=", ":+", "+", ":?", "?", "#", "!"}:
            return None
    if _inside_literal(node):
        return None
    return _node_text(names[0])


def _inside_literal(node: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.type in ("raw_string", "ansi_c_string", "comment"):
            return True
        if parent.type == "heredoc_body" and _heredoc_is_quoted(parent):
            return True
        parent = parent.parent
    return False


def _walk(root: Node) -> Iterator[Node]:
    """Nodes in source order (pre-order), so an assignment is seen before later reads."""
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.children))


def _node_text(node: Node | None) -> str:
    if node is None or node.text is None:
        return ""
    return node.text.decode("utf-8", errors="replace")


# Where an assignment does not reach the shell that runs the step: a function body runs
# only when called (and ``local`` there), a subshell, a substitution or a pipeline member
# runs in a child process, and ``X=1 cmd`` sets X for that one command.
_NOT_TOP_LEVEL = frozenset(
    {
        "function_definition",
        "subshell",
        "command_substitution",
        "process_substitution",
        "pipeline",
        "command",
        "arithmetic_expansion",
    }
)


def top_level_assignments(text: str) -> list[str]:
    """Names ``text`` assigns in the step's own shell, in order: what a later step can use.

    ``X=1``, ``export X=1``, ``declare X=1``, ``for X in``, ``read X`` at the top level
    or inside ``if``/``while``/``{ }`` count; assignments inside functions, subshells,
    ``$(...)``, pipelines and ``X=1 cmd`` (set for that command only) do not.
    """
    tree = _parser().parse(text.encode("utf-8"))
    found: dict[str, None] = {}
    for node in _walk(tree.root_node):
        if node.type == "unset_command" or _below_child_shell(node):
            continue
        if node.type == "command" and not _below_child_shell(node.parent):
            names = _assigns(node)  # read X, mapfile X, ...
            program = _node_text(node.child_by_field_name("name"))
            if program != "unset":
                found.update(dict.fromkeys(sorted(names)))
            continue
        if node.type in ("variable_assignment", "for_statement", "select_statement", "declaration_command"):
            if node.type == "declaration_command" and _first_token(node) == "local":
                continue
            found.update(dict.fromkeys(sorted(_assigns(node))))
    return [n for n in found if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", n)]


def _below_child_shell(node: Node | None) -> bool:
    """True when ``node`` sits inside something that does not assign in the step's shell."""
    parent = node.parent if node is not None else None
    while parent is not None:
        if parent.type in _NOT_TOP_LEVEL:
            return True
        parent = parent.parent
    return False
