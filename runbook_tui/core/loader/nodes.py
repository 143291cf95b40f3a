"""Node checks: a YAML node's type and shape, read into values with located problems.

:class:`NodeReader` holds the generic readers every part of the schema uses
(mappings with their allowed keys, lists, text, numbers, booleans, durations,
enums, ids); the kind modules (``core/steps/<kind>.py``) read their keys with them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..durations import DurationError, Window, parse_duration, parse_window
from .source import SourceContext

TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (TAG + t for t in ("str", "int", "float", "bool", "null"))
ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

E = TypeVar("E", bound=StrEnum)


def describe_node(node: Node) -> str:
    """How a node reads in a message: 'a list', 'the number 3', 'text \'x\''."""
    if isinstance(node, MappingNode):
        return "a mapping (key: value)"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == NULL:
        return "nothing"
    if node.tag in (INT, FLOAT):
        return f"the number {node.value}"
    if node.tag == BOOL:
        return f"the boolean {node.value}"
    value = str(node.value)
    return f"text {value[:40] + '...' if len(value) > 40 else value!r}"


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when ``word`` is close to one of ``options``, else ``""``."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(slots=True)
class MappedNode:
    """A YAML mapping with text keys: the key node and value node of each key."""

    node: MappingNode
    keys: dict[str, ScalarNode] = field(default_factory=dict)
    values: dict[str, Node] = field(default_factory=dict)

    def get(self, key: str) -> Node | None:
        value = self.values.get(key)
        if value is not None and value.tag == NULL and isinstance(value, ScalarNode):
            return None  # `key:` with nothing after it reads as absent
        return value

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None


class NodeReader:
    """The generic readers, reporting every problem to the source context."""

    def __init__(self, ctx: SourceContext) -> None:
        self.ctx = ctx

    def mapping(
        self,
        node: Node,
        what: str,
        allowed: Iterable[str],
        required: Iterable[str] = (),
        *,
        foreign: Mapping[str, str] | None = None,
    ) -> MappedNode | None:
        """``node`` as a mapping; reports a wrong type, duplicate, unknown and missing keys."""
        if not isinstance(node, MappingNode):
            hint = "; a runbook file starts with 'runbook: 1'" if what == "the runbook" else ""
            self.ctx.error(node, f"{what} must be a mapping (key: value), found {describe_node(node)}{hint}")
            return None
        allowed_set = set(allowed)
        result = MappedNode(node)
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == NULL:
                self.ctx.error(
                    key_node, f"keys of {what} must be plain words, found {describe_node(key_node)}"
                )
                continue
            key = str(key_node.value)
            if key in result.keys:
                first = result.keys[key].start_mark.line + 1
                self.ctx.error(key_node, f"duplicate key {key!r} in {what} (first at line {first})")
                continue
            result.keys[key] = key_node
            result.values[key] = value_node
            if key not in allowed_set:
                self.ctx.error(key_node, self._unknown_key(key, what, allowed_set, foreign))
        for key in required:
            if key not in result:
                self.ctx.error(node, f"{what} is missing {key!r}")
        return result

    @staticmethod
    def _unknown_key(key: str, what: str, allowed: set[str], foreign: Mapping[str, str] | None) -> str:
        message = f"unknown key {key!r} in {what}"
        if foreign and key in foreign:
            return f"{message}: it belongs to {foreign[key]}"
        hint = did_you_mean(key, allowed)
        return message + (hint or f"; known keys: {', '.join(sorted(allowed))}")

    def sequence(self, node: Node | None, what: str) -> list[Node]:
        if node is None:
            return []
        if not isinstance(node, SequenceNode):
            self.ctx.error(
                node, f"{what} must be a list (lines starting with '- '), found {describe_node(node)}"
            )
            return []
        return list(node.value)

    @staticmethod
    def sequence_quiet(node: Node | None) -> list[Node]:
        """The items of a list node, or none (the wrong type is reported elsewhere)."""
        return list(node.value) if isinstance(node, SequenceNode) else []

    def text(self, m: MappedNode, key: str, what: str, default: str = "") -> str:
        node = m.get(key)
        if node is None:
            return default
        if not isinstance(node, ScalarNode):
            self.ctx.error(node, f"{key!r} of {what} must be text, found {describe_node(node)}")
            return default
        return str(node.value)

    def opt_text(self, m: MappedNode, key: str, what: str) -> str | None:
        return self.text(m, key, what) if key in m else None

    def integer(self, m: MappedNode, key: str, what: str, default: int | None = None) -> int | None:
        node = m.get(key)
        if node is None:
            return default
        if isinstance(node, ScalarNode) and node.tag == INT:
            try:
                return int(str(node.value).replace("_", ""), 0)
            except ValueError:
                pass
        self.ctx.error(node, f"{key!r} of {what} must be a whole number, found {describe_node(node)}")
        return default

    def boolean(self, m: MappedNode, key: str, what: str, default: bool = False) -> bool:
        node = m.get(key)
        if node is None:
            return default
        if isinstance(node, ScalarNode) and node.tag == BOOL:
            return str(node.value).lower() in ("true", "yes", "on")
        self.ctx.error(node, f"{key!r} of {what} must be true or false, found {describe_node(node)}")
        return default

    def duration(self, m: MappedNode, key: str, what: str) -> float | None:
        node = m.get(key)
        if node is None:
            return None
        if not isinstance(node, ScalarNode) or node.tag == BOOL:
            self.ctx.error(
                node, f"{key!r} of {what} must be a duration like 90s or 5m, found {describe_node(node)}"
            )
            return None
        try:
            return parse_duration(str(node.value))
        except DurationError as exc:
            self.ctx.error(node, f"{key!r} of {what}: {exc}")
            return None

    def window(self, m: MappedNode, key: str, what: str) -> Window | None:
        node = m.get(key)
        if node is None:
            return None
        if not isinstance(node, ScalarNode) or node.tag == BOOL:
            self.ctx.error(
                node,
                f"{key!r} of {what} must be a time window like '< 5 minutes', found {describe_node(node)}",
            )
            return None
        try:
            return parse_window(str(node.value))
        except DurationError as exc:
            self.ctx.error(node, f"{key!r} of {what}: {exc}")
            return None

    def text_list(self, m: MappedNode, key: str, what: str) -> tuple[str, ...]:
        node = m.get(key)
        out: list[str] = []
        for item in self.sequence(node, f"{key!r} of {what}"):
            if isinstance(item, ScalarNode) and item.tag != NULL:
                out.append(str(item.value))
            else:
                self.ctx.error(
                    item, f"each entry of {key!r} in {what} must be text, found {describe_node(item)}"
                )
        return tuple(out)

    def text_map(self, m: MappedNode, key: str, what: str) -> Mapping[str, str]:
        """``key`` as a read-only name -> text mapping (env, expect_json)."""
        return MappingProxyType(self._text_dict(m, key, what))

    def _text_dict(self, m: MappedNode, key: str, what: str) -> dict[str, str]:
        node = m.get(key)
        if node is None:
            return {}
        if not isinstance(node, MappingNode):
            self.ctx.error(
                node, f"{key!r} of {what} must be a mapping (name: value), found {describe_node(node)}"
            )
            return {}
        out: dict[str, str] = {}
        for key_node, value_node in node.value:
            name = str(key_node.value) if isinstance(key_node, ScalarNode) else ""
            if not name or not isinstance(value_node, ScalarNode) or value_node.tag == NULL:
                self.ctx.error(value_node, f"each entry of {key!r} in {what} must be name: text")
                continue
            if name in out:
                self.ctx.error(key_node, f"duplicate key {name!r} in {key!r} of {what}")
            out[name] = str(value_node.value)
        return out

    def choice(self, m: MappedNode, key: str, what: str, enum: type[E]) -> E | None:
        node = m.get(key)
        if node is None:
            return None
        value = str(node.value) if isinstance(node, ScalarNode) else ""
        options = [e.value for e in enum]
        if value in options:
            return enum(value)
        found = repr(value) if value else describe_node(node)
        self.ctx.error(
            node,
            f"{key!r} of {what} is {found}; use one of {', '.join(options)}{did_you_mean(value, options)}",
        )
        return None

    def ident(self, m: MappedNode, key: str, what: str) -> str:
        value = self.text(m, key, what)
        node = m.get(key)
        if value and node is not None and not ID.match(value):
            slug = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "step-1"
            self.ctx.error(
                node, f"{key} {value!r} of {what} must be lower-case words joined by '-', like {slug!r}"
            )
        return value

    def unique(self, items: Iterable[tuple[str, Node]], what: str, where: str = "") -> None:
        """Report every id that appears twice, at its second place."""
        seen: dict[str, Node] = {}
        for key, node in items:
            if not key:
                continue
            if key in seen:
                first = seen[key].start_mark.line + 1
                self.ctx.error(node, f"duplicate {what} {key!r}{where} (first at line {self._line(first)})")
            else:
                seen[key] = node

    def _line(self, yaml_line: int) -> int:
        return self.ctx.line_map(yaml_line) if self.ctx.line_map else yaml_line


def raw_id(node: Node, key: str = "id") -> str:
    """The ``id`` written in a mapping node, even when the element failed to build."""
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key and isinstance(value_node, ScalarNode) and value_node.tag != NULL:
                return str(value_node.value)
    return ""


def scalars(node: Node, seen: set[int]) -> Iterator[ScalarNode]:
    """Every scalar value under ``node`` (not keys); aliases are visited once."""
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ScalarNode):
            if current.tag == STR:
                yield current
        elif isinstance(current, MappingNode):
            stack.extend(value for _, value in current.value)
        elif isinstance(current, SequenceNode):
            stack.extend(current.value)
