"""Where a runbook's text comes from, and where each node of it is: file:line:col.

The file is read as UTF-8 text (anything else is refused, located); PyYAML composes
its node tree (libyaml when available); :class:`SourceContext` turns node marks
and character offsets into :class:`Location` values (through the importer's line
map for Markdown) and collects the problems found.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from pathlib import Path

import yaml
from yaml.nodes import Node, ScalarNode

from ..errors import Location, Problem, RunbookLoadError

try:  # libyaml is several times faster; the pure-Python loader gives the same nodes.
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class YamlLoader(_BaseLoader):
    """The safe loader with a shortcut: most scalars start with a letter no implicit type starts with."""

    _typed_first = frozenset(key for key in _BaseLoader.yaml_implicit_resolvers if key)

    def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
        # Resolving runs in Python even under libyaml; skipping the regexes saves ~10%.
        if kind is ScalarNode and implicit[0] and value and value[0] not in self._typed_first:
            return "tag:yaml.org,2002:str"
        return str(super().resolve(kind, value, implicit))


MAX_BYTES = 4 * 1024 * 1024  # the seeds are ~10 KB; anything this big is the wrong file
LineMap = Callable[[int], int]


def read_source(path: Path) -> str:
    """The text of a runbook file; anything that is not readable UTF-8 text raises, located."""
    file = str(path)

    def unreadable(message: str, line: int = 0, column: int = 0) -> RunbookLoadError:
        return RunbookLoadError([Problem(Location(file, line, column), message)], unreadable=True)

    try:
        if path.is_dir():
            raise unreadable(
                "is a folder, not a runbook file; give a .yaml file (validate also takes folders)"
            )
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise unreadable("no such file; check the path") from None
    except PermissionError:
        raise unreadable("permission denied; check the file's permissions (chmod u+r)") from None
    except OSError as exc:
        raise unreadable(f"cannot read the file: {exc.strerror or exc}") from None
    if len(data) > MAX_BYTES:
        raise unreadable(f"is larger than {MAX_BYTES // (1024 * 1024)} MB; a runbook is a small text file")
    nul = data.find(b"\x00")
    if nul >= 0:
        line, column = _byte_position(data, nul)
        raise unreadable("is a binary file (NUL byte); a runbook is UTF-8 text", line, column)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = _byte_position(data, exc.start)
        raise unreadable(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8", line, column
        ) from None


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


# --- context: where problems go -----------------------------------------------


class SourceContext:
    """The file being loaded, its line starts (for placeholders) and the problems found so far."""

    def __init__(self, file: str, text: str, line_map: LineMap | None) -> None:
        self.file = file
        self.text = text
        self.line_map = line_map
        self.problems: list[Problem] = []
        self._line_starts: list[int] | None = None

    def location(self, line: int, column: int) -> Location:
        if self.line_map is not None:
            line = self.line_map(line)
        return Location(self.file, line, column)

    def at(self, node: Node) -> Location:
        mark = node.start_mark
        return self.location(mark.line + 1, mark.column + 1)

    def location_of_index(self, index: int) -> Location:
        if self._line_starts is None:
            self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        line = bisect.bisect_right(self._line_starts, index)
        return self.location(line, index - self._line_starts[line - 1] + 1)

    def error(self, node: Node, message: str) -> None:
        self.problems.append(Problem(self.at(node), message))

    def error_at(self, location: Location, message: str) -> None:
        self.problems.append(Problem(location, message))


def yaml_error_location(ctx: SourceContext, exc: yaml.YAMLError) -> Location:
    """Where PyYAML says the syntax broke (the start of the file when it does not say)."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return ctx.location(mark.line + 1, mark.column + 1)
    position = getattr(exc, "position", None)  # ReaderError: a character offset
    if isinstance(position, int):
        return ctx.location_of_index(position)
    return ctx.location(1, 1)


def yaml_error_message(exc: yaml.YAMLError) -> str:
    """PyYAML's complaint in one line, with the fix for tabs."""
    if isinstance(exc, yaml.reader.ReaderError):
        return f"YAML cannot contain the character U+{int(exc.character):04X} ({exc.reason})"
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    if context and str(context).startswith("expected"):  # "expected a single document, but found another"
        text = f"YAML syntax error: {context}, {problem}"
    else:
        text = f"YAML syntax error: {problem}" + (f" ({context})" if context else "")
    if "tab character" in text or "'\\t'" in text:
        text += "; indent with spaces, not tabs"
    return text
