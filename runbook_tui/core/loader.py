"""YAML runbooks -> the immutable model, with every problem located as file:line:col.

The loader reads PyYAML's node tree (``yaml.compose``, libyaml when available)
instead of plain Python values, so every element and every problem keeps the
line and column it came from. It never stops at the first problem: a run of
``validate`` lists them all.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from . import shell_syntax
from .durations import DurationError, Window, parse_duration, parse_window
from .errors import Location, Problem, RunbookLoadError
from .model import (
    FORMAT_VERSION,
    AlertThreshold,
    AnsibleSpec,
    Capture,
    CargoFeaturesSpec,
    Checklist,
    ChecklistItem,
    ChoicesFrom,
    ComposeImageSpec,
    ConfirmSpec,
    DecisionMatrix,
    DecisionRow,
    DockerAction,
    DockerSpec,
    EscalationLevel,
    FleetSpec,
    GitAction,
    GitSpec,
    HttpSpec,
    ManualSpec,
    Milestone,
    Parameter,
    ParameterSource,
    Procedure,
    Role,
    Runbook,
    Section,
    ShellSpec,
    Signal,
    Step,
    StepKind,
    StepSpec,
    Template,
    WatchSpec,
)
from .params import PLACEHOLDER, reserved_name, shell_problem

try:  # libyaml is several times faster; the pure-Python loader gives the same nodes.
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class _YamlLoader(_BaseLoader):
    """The safe loader with a shortcut: most scalars start with a letter no implicit type starts with."""

    _typed_first = frozenset(key for key in _BaseLoader.yaml_implicit_resolvers if key)

    def resolve(self, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
        # Resolving runs in Python even under libyaml; skipping the regexes saves ~10%.
        if kind is ScalarNode and implicit[0] and value and value[0] not in self._typed_first:
            return "tag:yaml.org,2002:str"
        return str(super().resolve(kind, value, implicit))


MAX_BYTES = 4 * 1024 * 1024  # the seeds are ~10 KB; anything this big is the wrong file
LineMap = Callable[[int], int]

_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

E = TypeVar("E", bound=StrEnum)


# --- public API --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What loading one file gave: the runbook (None when it has errors) and every problem."""

    runbook: Runbook | None
    problems: tuple[Problem, ...] = ()
    unreadable: bool = False


def load_runbook(path: Path) -> Runbook:
    """Load a ``.yaml``/``.yml`` (or ``.md``) runbook; raises :class:`RunbookLoadError` with all problems."""
    result = try_load(path)
    if result.runbook is None:
        raise RunbookLoadError(list(result.problems), unreadable=result.unreadable)
    return result.runbook


def load_text(text: str, path: str, *, line_map: LineMap | None = None) -> Runbook:
    """Load runbook YAML from memory; ``line_map`` maps YAML lines to lines of the file it came from."""
    result = _load_text(text, path, line_map)
    if result.runbook is None:
        raise RunbookLoadError(list(result.problems), unreadable=result.unreadable)
    return result.runbook


def check_file(path: Path) -> list[Problem]:
    """Every problem in the runbook at ``path`` (empty when it is valid)."""
    return list(try_load(path).problems)


def try_load(path: Path) -> LoadResult:
    """Load ``path`` without raising: the runbook or the problems, and whether it could be read at all."""
    if path.suffix.lower() == ".md":
        return _load_markdown(path)
    try:
        text = read_source(path)
    except RunbookLoadError as exc:
        return LoadResult(None, tuple(exc.problems), unreadable=True)
    return _load_text(text, str(path), None)


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


def _load_markdown(path: Path) -> LoadResult:
    try:
        from .importer.markdown import import_markdown_file
    except ImportError:
        problem = Problem(Location(str(path)), "Markdown import is unavailable; convert it to YAML first")
        return LoadResult(None, (problem,), unreadable=True)
    try:
        imported = import_markdown_file(path)
    except RunbookLoadError as exc:
        return LoadResult(None, tuple(exc.problems), unreadable=exc.unreadable)
    return _load_text(imported.yaml_text, str(path), imported.line_map)


def _load_text(text: str, file: str, line_map: LineMap | None) -> LoadResult:
    ctx = _Ctx(file, text, line_map)
    try:
        root = yaml.compose(text, Loader=_YamlLoader)
    except yaml.YAMLError as exc:
        ctx.error_at(_yaml_error_location(ctx, exc), _yaml_error_message(exc))
        return LoadResult(None, tuple(ctx.problems))
    except RecursionError:
        ctx.error_at(ctx.location(1, 1), "the YAML is nested too deeply to be a runbook")
        return LoadResult(None, tuple(ctx.problems))
    runbook = _Builder(ctx).runbook(root)
    ctx.problems.sort(key=lambda p: (p.location.line, p.location.column))
    if any(p.severity == "error" for p in ctx.problems):
        return LoadResult(None, tuple(ctx.problems))
    return LoadResult(runbook, tuple(ctx.problems))


def _yaml_error_location(ctx: _Ctx, exc: yaml.YAMLError) -> Location:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        return ctx.location(mark.line + 1, mark.column + 1)
    position = getattr(exc, "position", None)  # ReaderError: a character offset
    if isinstance(position, int):
        return ctx.location_of_index(position)
    return ctx.location(1, 1)


def _yaml_error_message(exc: yaml.YAMLError) -> str:
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


# --- context: where problems go -----------------------------------------------


class _Ctx:
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


# --- reading nodes ------------------------------------------------------------


def _describe(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping (key: value)"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == _NULL:
        return "nothing"
    if node.tag in (_INT, _FLOAT):
        return f"the number {node.value}"
    if node.tag == _BOOL:
        return f"the boolean {node.value}"
    value = str(node.value)
    return f"text {value[:40] + '...' if len(value) > 40 else value!r}"


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when ``word`` is close to one of ``options``, else ``""``."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


@dataclass(slots=True)
class _Map:
    """A YAML mapping with text keys: the key node and value node of each key."""

    node: MappingNode
    keys: dict[str, ScalarNode] = field(default_factory=dict)
    values: dict[str, Node] = field(default_factory=dict)

    def get(self, key: str) -> Node | None:
        value = self.values.get(key)
        if value is not None and value.tag == _NULL and isinstance(value, ScalarNode):
            return None  # `key:` with nothing after it reads as absent
        return value

    def __contains__(self, key: str) -> bool:
        return self.get(key) is not None


class _Builder:
    """Builds the model from the node tree, reporting every problem to the context."""

    def __init__(self, ctx: _Ctx) -> None:
        self.ctx = ctx
        self.step_nodes: list[Node] = []
        self.procedure_refs: list[tuple[str, Node]] = []
        self.shell_maps: list[tuple[_Map, str]] = []  # shell/watch steps: checked once params are known
        self.inventory = ""  # the runbook's inventory:, absolute; read before its steps
        self.max_hosts: int | None = None
        self.capture_maps: list[tuple[_Map, str]] = []  # capture: names checked once params are known

    # -- generic readers --

    def mapping(
        self,
        node: Node,
        what: str,
        allowed: Iterable[str],
        required: Iterable[str] = (),
        *,
        foreign: Mapping[str, str] | None = None,
    ) -> _Map | None:
        """``node`` as a mapping; reports a wrong type, duplicate, unknown and missing keys."""
        if not isinstance(node, MappingNode):
            hint = "; a runbook file starts with 'runbook: 1'" if what == "the runbook" else ""
            self.ctx.error(node, f"{what} must be a mapping (key: value), found {_describe(node)}{hint}")
            return None
        allowed_set = set(allowed)
        result = _Map(node)
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _NULL:
                self.ctx.error(key_node, f"keys of {what} must be plain words, found {_describe(key_node)}")
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
            self.ctx.error(node, f"{what} must be a list (lines starting with '- '), found {_describe(node)}")
            return []
        return list(node.value)

    @staticmethod
    def sequence_quiet(node: Node | None) -> list[Node]:
        """The items of a list node, or none (the wrong type is reported elsewhere)."""
        return list(node.value) if isinstance(node, SequenceNode) else []

    def text(self, m: _Map, key: str, what: str, default: str = "") -> str:
        node = m.get(key)
        if node is None:
            return default
        if not isinstance(node, ScalarNode):
            self.ctx.error(node, f"{key!r} of {what} must be text, found {_describe(node)}")
            return default
        return str(node.value)

    def opt_text(self, m: _Map, key: str, what: str) -> str | None:
        return self.text(m, key, what) if key in m else None

    def integer(self, m: _Map, key: str, what: str, default: int | None = None) -> int | None:
        node = m.get(key)
        if node is None:
            return default
        if isinstance(node, ScalarNode) and node.tag == _INT:
            try:
                return int(str(node.value).replace("_", ""), 0)
            except ValueError:
                pass
        self.ctx.error(node, f"{key!r} of {what} must be a whole number, found {_describe(node)}")
        return default

    def boolean(self, m: _Map, key: str, what: str, default: bool = False) -> bool:
        node = m.get(key)
        if node is None:
            return default
        if isinstance(node, ScalarNode) and node.tag == _BOOL:
            return str(node.value).lower() in ("true", "yes", "on")
        self.ctx.error(node, f"{key!r} of {what} must be true or false, found {_describe(node)}")
        return default

    def duration(self, m: _Map, key: str, what: str) -> float | None:
        node = m.get(key)
        if node is None:
            return None
        if not isinstance(node, ScalarNode) or node.tag == _BOOL:
            self.ctx.error(
                node, f"{key!r} of {what} must be a duration like 90s or 5m, found {_describe(node)}"
            )
            return None
        try:
            return parse_duration(str(node.value))
        except DurationError as exc:
            self.ctx.error(node, f"{key!r} of {what}: {exc}")
            return None

    def window(self, m: _Map, key: str, what: str) -> Window | None:
        node = m.get(key)
        if node is None:
            return None
        if not isinstance(node, ScalarNode) or node.tag == _BOOL:
            self.ctx.error(
                node, f"{key!r} of {what} must be a time window like '< 5 minutes', found {_describe(node)}"
            )
            return None
        try:
            return parse_window(str(node.value))
        except DurationError as exc:
            self.ctx.error(node, f"{key!r} of {what}: {exc}")
            return None

    def text_list(self, m: _Map, key: str, what: str) -> tuple[str, ...]:
        node = m.get(key)
        out: list[str] = []
        for item in self.sequence(node, f"{key!r} of {what}"):
            if isinstance(item, ScalarNode) and item.tag != _NULL:
                out.append(str(item.value))
            else:
                self.ctx.error(item, f"each entry of {key!r} in {what} must be text, found {_describe(item)}")
        return tuple(out)

    def text_map(self, m: _Map, key: str, what: str) -> Mapping[str, str]:
        """``key`` as a read-only name -> text mapping (env, expect_json)."""
        return MappingProxyType(self._text_dict(m, key, what))

    def _text_dict(self, m: _Map, key: str, what: str) -> dict[str, str]:
        node = m.get(key)
        if node is None:
            return {}
        if not isinstance(node, MappingNode):
            self.ctx.error(
                node, f"{key!r} of {what} must be a mapping (name: value), found {_describe(node)}"
            )
            return {}
        out: dict[str, str] = {}
        for key_node, value_node in node.value:
            name = str(key_node.value) if isinstance(key_node, ScalarNode) else ""
            if not name or not isinstance(value_node, ScalarNode) or value_node.tag == _NULL:
                self.ctx.error(value_node, f"each entry of {key!r} in {what} must be name: text")
                continue
            if name in out:
                self.ctx.error(key_node, f"duplicate key {name!r} in {key!r} of {what}")
            out[name] = str(value_node.value)
        return out

    def choice(self, m: _Map, key: str, what: str, enum: type[E]) -> E | None:
        node = m.get(key)
        if node is None:
            return None
        value = str(node.value) if isinstance(node, ScalarNode) else ""
        options = [e.value for e in enum]
        if value in options:
            return enum(value)
        found = repr(value) if value else _describe(node)
        self.ctx.error(
            node,
            f"{key!r} of {what} is {found}; use one of {', '.join(options)}{did_you_mean(value, options)}",
        )
        return None

    def ident(self, m: _Map, key: str, what: str) -> str:
        value = self.text(m, key, what)
        node = m.get(key)
        if value and node is not None and not _ID.match(value):
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

    # -- the runbook --

    def runbook(self, root: Node | None) -> Runbook | None:
        ctx = self.ctx
        if root is None:
            ctx.error_at(
                ctx.location(1, 1), "empty file; a runbook starts with 'runbook: 1', 'id:' and 'title:'"
            )
            return None
        if isinstance(root, MappingNode) and not self._version(root):
            return None  # another format version: its other problems would only be noise
        m = self.mapping(root, "the runbook", _TOP_KEYS, ("id", "title", "procedures"))
        if m is None:
            return None
        self.fleet_defaults(m)
        procedures = self.procedures(m.get("procedures"))
        parameters = self.parameters(m.get("parameters"))
        runbook = Runbook(
            id=self.ident(m, "id", "the runbook"),
            title=self.text(m, "title", "the runbook"),
            procedures=procedures,
            path=ctx.file,
            description=self.text(m, "description", "the runbook"),
            owner=self.text(m, "owner", "the runbook"),
            severity=self.text(m, "severity", "the runbook"),
            tags=self.text_list(m, "tags", "the runbook"),
            parameters=parameters,
            decision_matrix=self.decision_matrix(m.get("decision_matrix")),
            roles=self.roles(m.get("roles"), "roles"),
            contacts=self.roles(m.get("contacts"), "contacts"),
            escalation=self.escalation(m.get("escalation")),
            alert_thresholds=self.thresholds(m.get("alert_thresholds")),
            checklists=self.checklists(m.get("checklists")),
            templates=self.templates(m.get("templates")),
            reference=self.sections(m.get("reference")),
            version=FORMAT_VERSION,
            location=ctx.at(root),
            inventory=self.inventory,
            max_hosts=self.max_hosts,
        )
        self._check_references(procedures)
        self._check_placeholders(parameters)
        self._warn_secret_arguments(procedures, parameters)
        self._check_shell(parameters)
        return runbook

    def _warn_secret_arguments(
        self, procedures: tuple[Procedure, ...], parameters: tuple[Parameter, ...]
    ) -> None:
        """A warning where a shell command hands a secret to a program as an argument (``ps`` shows it)."""
        from .secret_args import secret_argument_warnings

        for step, text in secret_argument_warnings(procedures, parameters):
            self.ctx.problems.append(Problem(step.location, text, severity="warning"))

    def _version(self, root: MappingNode) -> bool:
        node = next((v for k, v in root.value if k.value == "runbook"), None)
        if node is None:
            self.ctx.error(root, f"missing the format version: add 'runbook: {FORMAT_VERSION}' at the top")
            return True
        if not (isinstance(node, ScalarNode) and node.tag == _INT):
            self.ctx.error(
                node, f"'runbook' is the format version, a number: write 'runbook: {FORMAT_VERSION}'"
            )
            return True
        if int(node.value) != FORMAT_VERSION:
            self.ctx.error(
                node,
                f"unsupported runbook format version {node.value}; "
                f"this runbook-tui reads version {FORMAT_VERSION}",
            )
            return False
        return True

    def _check_references(self, procedures: tuple[Procedure, ...]) -> None:
        known = [p.id for p in procedures]
        for ref, node in self.procedure_refs:
            if ref not in known:
                listed = ", ".join(known) or "none"
                self.ctx.error(
                    node,
                    f"procedure {ref!r} does not exist{did_you_mean(ref, known)}; procedures here: {listed}",
                )

    def _check_placeholders(self, parameters: tuple[Parameter, ...]) -> None:
        declared = {p.name for p in parameters}
        seen: set[int] = set()
        for step_node in self.step_nodes:
            for scalar in _scalars(step_node, seen):
                for match in PLACEHOLDER.finditer(str(scalar.value)):
                    name = match.group(1)
                    if name not in declared:
                        where = self._placeholder_location(scalar, match.group(0))
                        message = f"placeholder {{{{{name}}}}} is not a declared parameter"
                        hint = did_you_mean(name, declared)
                        self.ctx.error_at(where, message + (hint or "; declare it under 'parameters:'"))

    def _check_shell(self, parameters: tuple[Parameter, ...]) -> None:
        """Placeholders where the shell expands nothing, and step env keys that shadow parameters."""
        declared = {p.name for p in parameters}
        for c, where in self.capture_maps:
            name_node = c.get("name")
            if name_node is not None and str(getattr(name_node, "value", "")) not in declared:
                known = ", ".join(sorted(declared)) or "none"
                self.ctx.error(
                    name_node,
                    f"'name' of {where} must be a parameter declared under 'parameters:' "
                    f"(its pattern checks the captured value); declared: {known}",
                )
        for m, what in self.shell_maps:
            node = m.get("command")
            if isinstance(node, ScalarNode):
                self._check_command_placeholders(node, str(node.value))
            env = m.get("env")
            if isinstance(env, MappingNode):
                for key_node, _value in env.value:
                    if key_node.value in declared:
                        self.ctx.error(
                            key_node,
                            f"'env' key {key_node.value!r} of {what} is also a parameter name; "
                            f"a shell step gets parameter {key_node.value!r} as that variable already: "
                            "drop the key or rename one of them",
                        )

    def _check_command_placeholders(self, node: ScalarNode, command: str) -> None:
        seen: dict[str, int] = {}
        for use in shell_syntax.placeholder_uses(command):
            written = command[use.start : use.end]
            nth = seen.get(written, 0)
            seen[written] = nth + 1
            problem = shell_problem(use)
            if problem is not None:
                where = self._placeholder_location(node, written, nth)
                self.ctx.error_at(where, f"placeholder {written} {problem}")

    def _placeholder_location(self, scalar: ScalarNode, written: str, nth: int = 0) -> Location:
        start, end = scalar.start_mark.index, scalar.end_mark.index
        index = self.ctx.text.find(written, start, end)
        for _ in range(nth):  # the nth use of the same placeholder in this scalar
            if index >= 0:
                index = self.ctx.text.find(written, index + 1, end)
        return self.ctx.location_of_index(index) if index >= 0 else self.ctx.at(scalar)

    # -- parameters --

    def parameters(self, node: Node | None) -> tuple[Parameter, ...]:
        items = self.sequence(node, "'parameters'")
        out = [param for param in map(self.parameter, items) if param is not None]
        self.unique(((_raw_id(item, "name"), item) for item in items), "parameter")
        return tuple(out)

    def parameter(self, node: Node) -> Parameter | None:
        what = "a parameter"
        m = self.mapping(node, what, _PARAM_KEYS, ("name",))
        if m is None:
            return None
        name = self.text(m, "name", what)
        name_node = m.get("name")
        if name and name_node is not None and not _NAME.match(name):
            suggestion = re.sub(r"\W+", "_", name).strip("_") or "value"
            self.ctx.error(name_node, f"parameter name {name!r} must be an identifier like {suggestion!r}")
        elif name and name_node is not None and reserved_name(name):
            self.ctx.error(
                name_node,
                f"parameter name {name!r} is reserved: shell steps get each parameter as an environment "
                "variable, and the shell, the loader or runbook-tui read this one; "
                f"rename it (for example {name.lower()!r} or 'app_{name.lower()}')",
            )
        what = f"parameter {name!r}" if name else what
        param = Parameter(
            name=name,
            description=self.text(m, "description", what),
            default=self.opt_text(m, "default", what),
            pattern=self._pattern(m, what),
            choices=self.text_list(m, "choices", what),
            choices_from=self._choices_from(m, what),
            secret=self.boolean(m, "secret", what),
            required=self.boolean(m, "required", what, default=True),
            example=self.opt_text(m, "example", what),
            location=self.ctx.at(node),
            suggestion=self.opt_text(m, "suggestion", what),
        )
        self._check_value(m, "default", param, what)
        self._check_value(m, "example", param, what)
        self._check_value(m, "suggestion", param, what)
        return param

    def _pattern(self, m: _Map, what: str) -> str | None:
        pattern = self.opt_text(m, "pattern", what)
        node = m.get("pattern")
        if pattern is None or node is None:
            return pattern
        try:
            re.compile(pattern)
        except re.error as exc:
            self.ctx.error(node, f"'pattern' of {what} is not a valid regular expression: {exc}")
        return pattern

    def _check_value(self, m: _Map, key: str, param: Parameter, what: str) -> None:
        value = getattr(param, key)
        node = m.get(key)
        if value is None or node is None:
            return
        if param.choices and value not in param.choices:
            self.ctx.error(
                node, f"{key} {value!r} of {what} is not one of its choices ({', '.join(param.choices)})"
            )
        if param.pattern is not None:
            try:
                ok = re.fullmatch(param.pattern, value) is not None
            except re.error:
                return  # already reported
            if not ok:
                self.ctx.error(node, f"{key} {value!r} of {what} does not match its pattern {param.pattern}")

    def _choices_from(self, m: _Map, what: str) -> ChoicesFrom | None:
        node = m.get("choices_from")
        if node is None:
            return None
        sources = [s.value for s in ParameterSource]
        sub = self.mapping(node, f"'choices_from' of {what}", sources)
        if sub is None:
            return None
        given = [s for s in sources if s in sub]
        if len(given) != 1:
            self.ctx.error(node, f"'choices_from' of {what} needs exactly one of {', '.join(sources)}")
            return None
        value = self.text(sub, given[0], f"'choices_from' of {what}")
        return ChoicesFrom(ParameterSource(given[0]), value, self.ctx.at(node))

    # -- decision matrix --

    def decision_matrix(self, node: Node | None) -> DecisionMatrix:
        if node is None:
            return DecisionMatrix()
        if isinstance(node, SequenceNode):
            self.ctx.error(node, "'decision_matrix' must be a mapping: put the rows under 'rows:'")
            return DecisionMatrix()
        m = self.mapping(node, "'decision_matrix'", ("columns", "rows"), ("rows",))
        if m is None:
            return DecisionMatrix()
        items = self.sequence(m.get("rows"), "'rows' of the decision matrix")
        rows = [row for row in map(self.decision_row, items) if row is not None]
        self.unique(((_raw_id(item), item) for item in items), "decision row id")
        columns = self.text_list(m, "columns", "the decision matrix")
        return DecisionMatrix(tuple(rows), columns, self.ctx.at(node))

    def decision_row(self, node: Node) -> DecisionRow | None:
        m = self.mapping(node, "a decision row", _ROW_KEYS, ("id", "issue", "action"))
        if m is None:
            return None
        row_id = self.ident(m, "id", "a decision row")
        what = f"decision row {row_id!r}" if row_id else "a decision row"
        procedure = self.opt_text(m, "procedure", what)
        ref_node = m.get("procedure")
        if procedure is not None and ref_node is not None:
            self.procedure_refs.append((procedure, ref_node))
        return DecisionRow(
            id=row_id,
            issue=self.text(m, "issue", what),
            action=self.text(m, "action", what),
            procedure=procedure,
            severity=self.text(m, "severity", what),
            threshold=self.text(m, "threshold", what),
            impact=self.text(m, "impact", what),
            deadline=self.window(m, "deadline", what),
            signal=self.signal(m.get("signal"), what),
            location=self.ctx.at(node),
        )

    def signal(self, node: Node | None, owner: str) -> Signal | None:
        if node is None:
            return None
        what = f"the signal of {owner}"
        m = self.mapping(node, what, ("url", "expect_status"), ("url",))
        if m is None:
            return None
        self.step_nodes.append(node)  # its URL may use placeholders too
        url = self.text(m, "url", what)
        self._check_url(m, url, what)
        status = self._status(m, what, default=None)
        return Signal(url, status, self.ctx.at(node))

    # -- procedures and steps --

    def procedures(self, node: Node | None) -> tuple[Procedure, ...]:
        items = self.sequence(node, "'procedures'")
        if node is not None and isinstance(node, SequenceNode) and not items:
            self.ctx.error(node, "'procedures' is empty; a runbook needs at least one procedure")
        out = [proc for proc in map(self.procedure, items) if proc is not None]
        self.unique(((_raw_id(item), item) for item in items), "procedure id")
        return tuple(out)

    def procedure(self, node: Node) -> Procedure | None:
        m = self.mapping(node, "a procedure", _PROC_KEYS, ("id", "title", "steps"))
        if m is None:
            return None
        proc_id = self.ident(m, "id", "a procedure")
        what = f"procedure {proc_id!r}" if proc_id else "a procedure"
        phases = {key: self.steps(m.get(key), key, what) for key in ("prechecks", "steps", "verification")}
        steps_node = m.get("steps")
        if steps_node is not None and isinstance(steps_node, SequenceNode) and not steps_node.value:
            self.ctx.error(steps_node, f"'steps' of {what} is empty; a procedure needs at least one step")
        step_nodes = [
            item for key in ("prechecks", "steps", "verification") for item in self.sequence_quiet(m.get(key))
        ]
        self.unique(((_raw_id(item), item) for item in step_nodes), "step id", f" in {what}")
        return Procedure(
            id=proc_id,
            title=self.text(m, "title", what),
            steps=tuple(step for step, _ in phases["steps"]),
            prechecks=tuple(step for step, _ in phases["prechecks"]),
            verification=tuple(step for step, _ in phases["verification"]),
            window=self.window(m, "recovery_window", what),
            when=self.text(m, "when", what),
            description=self.text(m, "description", what),
            scope=self.text(m, "scope", what),
            symptoms=self.text_list(m, "symptoms", what),
            location=self.ctx.at(node),
        )

    def steps(self, node: Node | None, key: str, owner: str) -> list[tuple[Step, Node]]:
        out: list[tuple[Step, Node]] = []
        for item in self.sequence(node, f"{key!r} of {owner}"):
            step = self.step(item)
            if step is not None:
                out.append((step, item))
        return out

    def step(self, node: Node) -> Step | None:
        if not isinstance(node, MappingNode):
            self.ctx.error(
                node, f"a step must be a mapping (id:, title:, kind: ...), found {_describe(node)}"
            )
            return None
        self.step_nodes.append(node)
        kind = self._step_kind(node)
        if kind is None:
            self.mapping(node, "a step", _COMMON_STEP_KEYS | _ALL_KIND_KEYS, ("id", "title", "kind"))
            return None
        raw_id = _raw_id(node)
        what = f"{kind.value} step {raw_id!r}" if raw_id else f"a {kind.value} step"
        allowed = _COMMON_STEP_KEYS | _KIND_KEYS[kind]
        m = self.mapping(
            node, what, allowed, ("id", "title", *_KIND_REQUIRED[kind]), foreign=_FOREIGN_KEYS[kind]
        )
        if m is None:
            return None
        step_id = self.ident(m, "id", what)
        spec = _SPEC_BUILDERS[kind](self, m, what)
        if spec is None:
            return None
        return Step(
            id=step_id,
            title=self.text(m, "title", what),
            kind=kind,
            spec=spec,
            description=self.text(m, "description", what),
            confirm=self.opt_text(m, "confirm", what),
            destructive=self.boolean(m, "destructive", what),
            timeout=self.duration(m, "timeout", what),
            continue_on_failure=self.boolean(m, "continue_on_failure", what),
            milestone=self.choice(m, "milestone", what, Milestone),
            role=self.opt_text(m, "role", what),
            location=self.ctx.at(node),
            fleet=self.fleet(m, what, kind),
            read_only=self.boolean(m, "read_only", what),
            capture=self.capture(m, what),
        )

    def capture(self, m: _Map, what: str) -> Capture | None:
        """``capture: {name: P, pattern: '...'}``: a regex with one group, P checked once params are known."""
        node = m.get("capture")
        if node is None:
            return None
        where = f"'capture' of {what}"
        c = self.mapping(node, where, ("name", "pattern"), ("name", "pattern"))
        if c is None:
            return None
        name, pattern = self.text(c, "name", where), self.text(c, "pattern", where)
        pattern_node = c.get("pattern")
        try:
            groups = re.compile(pattern).groups
        except re.error as exc:
            self.ctx.error(
                pattern_node or node, f"'pattern' of {where} is not a valid regular expression: {exc}"
            )
            return None
        if groups < 1:
            self.ctx.error(
                pattern_node or node,
                f"'pattern' of {where} has no group; put the value to capture in ( ), like 'version: (\\S+)'",
            )
            return None
        self.capture_maps.append((c, where))
        return Capture(name, pattern, self.ctx.at(node))

    def _step_kind(self, node: MappingNode) -> StepKind | None:
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == "kind":
                value = str(value_node.value) if isinstance(value_node, ScalarNode) else ""
                kinds = _KIND_VALUES
                if value in kinds:
                    return StepKind(value)
                found = repr(value) if value else _describe(value_node)
                self.ctx.error(
                    value_node,
                    f"unknown step kind {found}{did_you_mean(value, kinds)}; kinds: {', '.join(kinds)}",
                )
                return None
        return None  # the missing key is reported by mapping()

    def _check_url(self, m: _Map, url: str, what: str) -> None:
        node = m.get("url")
        if node is None or not url:
            return
        if not url.startswith(("http://", "https://", "{{")):
            self.ctx.error(node, f"'url' of {what} must start with http:// or https://, found {url!r}")

    def _status(self, m: _Map, what: str, default: int | None) -> int | None:
        status = self.integer(m, "expect_status", what, default)
        node = m.get("expect_status")
        if status is not None and node is not None and not 100 <= status <= 599:
            self.ctx.error(
                node, f"'expect_status' of {what} must be an HTTP status (100-599), found {status}"
            )
        return status

    # -- spec builders, one per kind --

    def shell_spec(self, m: _Map, what: str) -> StepSpec | None:
        self.shell_maps.append((m, what))
        return ShellSpec(
            command=self._command(m, what),
            cwd=self.opt_text(m, "cwd", what),
            env=self.text_map(m, "env", what),
            expect_exit=self.integer(m, "expect_exit", what, 0) or 0,
            strict=self.boolean(m, "strict", what, True),
        )

    def _command(self, m: _Map, what: str) -> str:
        command = self.text(m, "command", what)
        node = m.get("command")
        if node is not None and isinstance(node, ScalarNode) and not command.strip():
            self.ctx.error(node, f"'command' of {what} is empty")
        return command

    def http_spec(self, m: _Map, what: str) -> StepSpec | None:
        url = self.text(m, "url", what)
        self._check_url(m, url, what)
        method = self.text(m, "method", what, "GET").upper()
        method_node = m.get("method")
        if method not in _HTTP_METHODS and method_node is not None:
            self.ctx.error(method_node, f"'method' of {what} must be one of {', '.join(_HTTP_METHODS)}")
        request_timeout = self.duration(m, "request_timeout", what)
        timeout_node = m.get("request_timeout")
        if request_timeout == 0 and timeout_node is not None:
            self.ctx.error(timeout_node, f"'request_timeout' of {what} must be more than 0s")
        return HttpSpec(
            url=url,
            expect_status=self._status(m, what, 200) or 200,
            expect_json=self.text_map(m, "expect_json", what),
            method=method,
            request_timeout=request_timeout or 5.0,
            retry_for=self.duration(m, "retry_for", what) or 0.0,
            retry_interval=self.duration(m, "retry_interval", what) or 2.0,
        )

    def docker_spec(self, m: _Map, what: str) -> StepSpec | None:
        action = self.choice(m, "action", what, DockerAction)
        if action is None:
            return None
        needs = "image" if action is DockerAction.TAGS else "container"
        if needs not in m:
            self.ctx.error(m.node, f"{what} (action {action.value}) is missing {needs!r}")
        tail = self.integer(m, "tail", what, 200)
        return DockerSpec(
            action=action,
            image=self.opt_text(m, "image", what),
            container=self.opt_text(m, "container", what),
            since=self.duration(m, "since", what),
            tail=200 if tail is None else tail,
        )

    def cargo_spec(self, m: _Map, what: str) -> StepSpec | None:
        if not any(key in m.values for key in ("remove", "add", "set")):
            self.ctx.error(m.node, f"{what} needs 'remove', 'add' or 'set' (the features to change)")
        if "set" in m.values and any(key in m for key in ("remove", "add")):
            self.ctx.error(m.keys["set"], f"{what}: use 'set' alone, or 'add'/'remove', not both")
        return CargoFeaturesSpec(
            file=self.text(m, "file", what, "Cargo.toml"),
            remove=self.text_list(m, "remove", what),
            add=self.text_list(m, "add", what),
            set=self.text_list(m, "set", what) if "set" in m.values else None,
            allow_read_only=self.boolean(m, "allow_read_only", what),
            outside_workdir=self.boolean(m, "outside_workdir", what),
        )

    def compose_spec(self, m: _Map, what: str) -> StepSpec | None:
        return ComposeImageSpec(
            service=self.text(m, "service", what),
            tag=self.text(m, "tag", what),
            file=self.text(m, "file", what, "docker-compose.yml"),
            allow_read_only=self.boolean(m, "allow_read_only", what),
            outside_workdir=self.boolean(m, "outside_workdir", what),
        )

    def git_spec(self, m: _Map, what: str) -> StepSpec | None:
        action = self.choice(m, "action", what, GitAction)
        if action is None:
            return None
        if action is not GitAction.TAGS and "tag" not in m:
            self.ctx.error(m.node, f"{what} (action {action.value}) is missing 'tag'")
        return GitSpec(
            action=action,
            tag=self.opt_text(m, "tag", what),
            message=self.opt_text(m, "message", what),
            repo=self.opt_text(m, "repo", what),
            pattern=self.opt_text(m, "pattern", what),
            limit=self.integer(m, "limit", what),
        )

    def manual_spec(self, m: _Map, what: str) -> StepSpec | None:
        return ManualSpec(instructions=self.text(m, "instructions", what))

    def confirm_spec(self, m: _Map, what: str) -> StepSpec | None:
        return ConfirmSpec(message=self.text(m, "message", what))

    def watch_spec(self, m: _Map, what: str) -> StepSpec | None:
        self.shell_maps.append((m, what))
        return WatchSpec(
            command=self._command(m, what),
            duration=self.duration(m, "duration", what) or 0.0,
            cwd=self.opt_text(m, "cwd", what),
            env=self.text_map(m, "env", what),
            strict=self.boolean(m, "strict", what, True),
        )

    # -- fleet steps (Ansible): inventory, targets, batches, the blast-radius cap --

    def fleet_defaults(self, m: _Map) -> None:
        """The runbook's ``inventory:`` (relative to the runbook file) and default ``max_hosts``."""
        inventory = self.text(m, "inventory", "the runbook")
        if inventory:
            base = Path(self.ctx.file).parent if self.ctx.file else Path.cwd()
            self.inventory = str((base / inventory).resolve())
        self.max_hosts = self._max_hosts(m, "the runbook")

    def _max_hosts(self, m: _Map, what: str) -> int | None:
        value = self.integer(m, "max_hosts", what)
        node = m.get("max_hosts")
        if value is not None and node is not None and value < 1:
            self.ctx.error(node, f"'max_hosts' of {what} must be 1 or more, found {value}")
            return None
        return value

    def fleet(self, m: _Map, what: str, kind: StepKind) -> FleetSpec | None:
        """The step's fleet keys, or None for a step that runs here (no ``targets``)."""
        if "targets" not in m:
            return None
        targets = self.text(m, "targets", what).strip()
        if not targets:
            self.ctx.error(m.keys["targets"], f"'targets' of {what} is empty; name an Ansible host pattern")
        forks = self.integer(m, "forks", what)
        if forks is not None and forks < 1:
            self.ctx.error(m.keys["forks"], f"'forks' of {what} must be 1 or more, found {forks}")
            forks = None
        step_cap = self._max_hosts(m, what)
        if kind is StepKind.ANSIBLE:
            for key in ("serial", "max_fail_percentage"):
                if key in m:
                    self.ctx.error(
                        m.keys[key],
                        f"{key!r} of {what} is a play keyword: set it on the plays of the playbook itself",
                    )
        return FleetSpec(
            targets=targets,
            serial=self._serial(m, what),
            max_fail_percentage=self._percentage(m, what),
            become=self.boolean(m, "become", what),
            forks=forks,
            max_hosts=step_cap if step_cap is not None else self.max_hosts,
            inventory=self.inventory,
        )

    def _serial(self, m: _Map, what: str) -> tuple[str, ...]:
        """``serial`` as Ansible reads it: a number, a percentage, or a list of them."""
        node = m.get("serial")
        if node is None:
            return ()
        items = list(node.value) if isinstance(node, SequenceNode) else [node]
        out: list[str] = []
        for item in items:
            value = str(item.value).strip() if isinstance(item, ScalarNode) else ""
            if not _BATCH.match(value) or value.rstrip("%") in ("0", ""):
                self.ctx.error(
                    item,
                    f"'serial' of {what} takes batch sizes like 1, 3 or '30%' (or a list of them), "
                    f"found {_describe(item)}",
                )
                continue
            out.append(value)
        return tuple(out)

    def _percentage(self, m: _Map, what: str) -> float | None:
        node = m.get("max_fail_percentage")
        if node is None:
            return None
        if isinstance(node, ScalarNode) and node.tag in (_INT, _FLOAT):
            value = float(str(node.value).replace("_", ""))
            if 0 <= value <= 100:
                return value
        self.ctx.error(
            node, f"'max_fail_percentage' of {what} must be a number from 0 to 100, found {_describe(node)}"
        )
        return None

    def ansible_spec(self, m: _Map, what: str) -> StepSpec | None:
        playbook = self.text(m, "playbook", what).strip()
        if playbook and "{{" not in playbook and self.ctx.file and not Path(playbook).is_absolute():
            playbook = str((Path(self.ctx.file).parent / playbook).resolve())
        return AnsibleSpec(playbook=playbook)

    # -- people, thresholds, checklists, templates, reference --

    def roles(self, node: Node | None, key: str) -> tuple[Role, ...]:
        out: list[Role] = []
        for item in self.sequence(node, f"{key!r}"):
            m = self.mapping(
                item, f"an entry of {key!r}", ("role", "responsibilities", "name", "contact"), ("role",)
            )
            if m is not None:
                what = f"an entry of {key!r}"
                out.append(
                    Role(
                        role=self.text(m, "role", what),
                        responsibilities=self.text(m, "responsibilities", what),
                        name=self.text(m, "name", what),
                        contact=self.text(m, "contact", what),
                        location=self.ctx.at(item),
                    )
                )
        return tuple(out)

    def escalation(self, node: Node | None) -> tuple[EscalationLevel, ...]:
        out: list[EscalationLevel] = []
        for item in self.sequence(node, "'escalation'"):
            what = "an escalation level"
            m = self.mapping(item, what, ("level", "who"), ("level", "who"))
            if m is not None:
                level = self.integer(m, "level", what, 0) or 0
                out.append(EscalationLevel(level, self.text(m, "who", what), self.ctx.at(item)))
        return tuple(out)

    def thresholds(self, node: Node | None) -> tuple[AlertThreshold, ...]:
        out: list[AlertThreshold] = []
        for item in self.sequence(node, "'alert_thresholds'"):
            what = "an alert threshold"
            m = self.mapping(item, what, ("metric", "warning", "critical", "action"), ("metric",))
            if m is not None:
                out.append(
                    AlertThreshold(
                        metric=self.text(m, "metric", what),
                        warning=self.text(m, "warning", what),
                        critical=self.text(m, "critical", what),
                        action=self.text(m, "action", what),
                        location=self.ctx.at(item),
                    )
                )
        return tuple(out)

    def checklists(self, node: Node | None) -> tuple[Checklist, ...]:
        out: list[Checklist] = []
        items = self.sequence(node, "'checklists'")
        self.unique(((_raw_id(item), item) for item in items), "checklist id")
        for item in items:
            m = self.mapping(item, "a checklist", ("id", "title", "items"), ("id", "title", "items"))
            if m is None:
                continue
            checklist_id = self.ident(m, "id", "a checklist")
            what = f"checklist {checklist_id!r}"
            entries = tuple(self._checklist_items(m.get("items"), what))
            out.append(Checklist(checklist_id, self.text(m, "title", what), entries, self.ctx.at(item)))

        return tuple(out)

    def _checklist_items(self, node: Node | None, what: str) -> Iterator[ChecklistItem]:
        items = self.sequence(node, f"'items' of {what}")
        if node is not None and isinstance(node, SequenceNode) and not items:
            self.ctx.error(node, f"'items' of {what} is empty")
        for item in items:
            if isinstance(item, ScalarNode) and item.tag != _NULL:
                yield ChecklistItem(str(item.value), location=self.ctx.at(item))
                continue
            m = self.mapping(item, f"an item of {what}", ("text", "group"), ("text",))
            if m is not None:
                yield ChecklistItem(
                    self.text(m, "text", what), self.text(m, "group", what), location=self.ctx.at(item)
                )

    def templates(self, node: Node | None) -> tuple[Template, ...]:
        out: list[Template] = []
        items = self.sequence(node, "'templates'")
        self.unique(((_raw_id(item), item) for item in items), "template id")
        for item in items:
            m = self.mapping(item, "a template", ("id", "title", "body", "audience"), ("id", "title", "body"))
            if m is None:
                continue
            template_id = self.ident(m, "id", "a template")
            what = f"template {template_id!r}"
            audience = self.text(m, "audience", what, "internal")
            audience_node = m.get("audience")
            if audience not in ("internal", "external") and audience_node is not None:
                self.ctx.error(audience_node, f"'audience' of {what} must be internal or external")
            out.append(
                Template(
                    template_id,
                    self.text(m, "title", what),
                    self.text(m, "body", what),
                    audience,
                    self.ctx.at(item),
                )
            )

        return tuple(out)

    def sections(self, node: Node | None) -> tuple[Section, ...]:
        out: list[Section] = []
        items = self.sequence(node, "'reference'")
        self.unique(((_raw_id(item), item) for item in items), "reference section id")
        for item in items:
            m = self.mapping(item, "a reference section", ("id", "title", "body"), ("id", "title", "body"))
            if m is None:
                continue
            section_id = self.ident(m, "id", "a reference section")
            what = f"reference section {section_id!r}"
            out.append(
                Section(
                    section_id, self.text(m, "title", what), self.text(m, "body", what), self.ctx.at(item)
                )
            )

        return tuple(out)


def _raw_id(node: Node, key: str = "id") -> str:
    """The ``id`` written in a mapping node, even when the element failed to build."""
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == key and isinstance(value_node, ScalarNode) and value_node.tag != _NULL:
                return str(value_node.value)
    return ""


def _scalars(node: Node, seen: set[int]) -> Iterator[ScalarNode]:
    """Every scalar value under ``node`` (not keys); aliases are visited once."""
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ScalarNode):
            if current.tag == _STR:
                yield current
        elif isinstance(current, MappingNode):
            stack.extend(value for _, value in current.value)
        elif isinstance(current, SequenceNode):
            stack.extend(current.value)


# --- the schema ----------------------------------------------------------------

_TOP_KEYS = frozenset(
    {
        "runbook",
        "id",
        "title",
        "description",
        "owner",
        "severity",
        "tags",
        "parameters",
        "decision_matrix",
        "procedures",
        "roles",
        "contacts",
        "escalation",
        "alert_thresholds",
        "checklists",
        "templates",
        "reference",
        "inventory",
        "max_hosts",
    }
)
_PARAM_KEYS = frozenset(
    {
        "name",
        "description",
        "pattern",
        "choices",
        "choices_from",
        "default",
        "example",
        "secret",
        "required",
        "suggestion",
    }
)
_ROW_KEYS = frozenset(
    {"id", "issue", "threshold", "severity", "impact", "action", "procedure", "deadline", "signal"}
)
_PROC_KEYS = frozenset(
    {
        "id",
        "title",
        "when",
        "description",
        "scope",
        "symptoms",
        "recovery_window",
        "prechecks",
        "steps",
        "verification",
    }
)
_COMMON_STEP_KEYS = frozenset(
    {
        "id",
        "title",
        "kind",
        "description",
        "confirm",
        "destructive",
        "timeout",
        "continue_on_failure",
        "milestone",
        "role",
        "read_only",
        "capture",
    }
)
_KIND_KEYS: Mapping[StepKind, frozenset[str]] = {
    StepKind.SHELL: frozenset({"command", "cwd", "env", "expect_exit", "strict"}),
    StepKind.HTTP: frozenset(
        {"url", "expect_status", "expect_json", "method", "request_timeout", "retry_for", "retry_interval"}
    ),
    StepKind.DOCKER: frozenset({"action", "image", "container", "since", "tail"}),
    StepKind.CARGO_FEATURES: frozenset(
        {"file", "remove", "add", "set", "allow_read_only", "outside_workdir"}
    ),
    StepKind.COMPOSE_IMAGE: frozenset({"file", "service", "tag", "allow_read_only", "outside_workdir"}),
    StepKind.GIT: frozenset({"action", "tag", "message", "repo", "pattern", "limit"}),
    StepKind.MANUAL: frozenset({"instructions"}),
    StepKind.CONFIRM: frozenset({"message"}),
    StepKind.WATCH: frozenset({"command", "duration", "cwd", "env", "strict"}),
}
_KIND_REQUIRED: Mapping[StepKind, tuple[str, ...]] = {
    StepKind.SHELL: ("command",),
    StepKind.HTTP: ("url",),
    StepKind.DOCKER: ("action",),
    StepKind.CARGO_FEATURES: (),
    StepKind.COMPOSE_IMAGE: ("service", "tag"),
    StepKind.GIT: ("action",),
    StepKind.MANUAL: (),
    StepKind.CONFIRM: ("message",),
    StepKind.WATCH: ("command", "duration"),
}
# Fleet steps: a shell step with targets, or an ansible step (a playbook against a pattern).
_FLEET_KEYS = frozenset({"targets", "serial", "max_fail_percentage", "become", "forks", "max_hosts"})
_BATCH = re.compile(r"^[0-9]+%?$")
_KIND_KEYS = {
    **_KIND_KEYS,
    StepKind.SHELL: _KIND_KEYS[StepKind.SHELL] | _FLEET_KEYS,
    StepKind.ANSIBLE: frozenset({"playbook"}) | _FLEET_KEYS,
}
_KIND_REQUIRED = {**_KIND_REQUIRED, StepKind.ANSIBLE: ("playbook", "targets")}
_KIND_VALUES = tuple(kind.value for kind in StepKind)
_ALL_KIND_KEYS = frozenset().union(*_KIND_KEYS.values())
_SPEC_BUILDERS: Mapping[StepKind, Callable[[_Builder, _Map, str], StepSpec | None]] = {
    StepKind.SHELL: _Builder.shell_spec,
    StepKind.HTTP: _Builder.http_spec,
    StepKind.DOCKER: _Builder.docker_spec,
    StepKind.CARGO_FEATURES: _Builder.cargo_spec,
    StepKind.COMPOSE_IMAGE: _Builder.compose_spec,
    StepKind.GIT: _Builder.git_spec,
    StepKind.MANUAL: _Builder.manual_spec,
    StepKind.CONFIRM: _Builder.confirm_spec,
    StepKind.WATCH: _Builder.watch_spec,
    StepKind.ANSIBLE: _Builder.ansible_spec,
}


def _foreign_keys(kind: StepKind) -> dict[str, str]:
    """Keys of other step kinds, and which kinds have them, for 'unknown key' hints."""
    out: dict[str, str] = {}
    for key in _ALL_KIND_KEYS - _KIND_KEYS[kind]:
        owners = [k.value for k, keys in _KIND_KEYS.items() if key in keys]
        out[key] = " and ".join(owners) + " steps"
    return out


_FOREIGN_KEYS: Mapping[StepKind, Mapping[str, str]] = {kind: _foreign_keys(kind) for kind in StepKind}
