"""compose_image steps: change one service's image tag with a position-exact edit.

PyYAML's composer gives every scalar its start and end offsets in the text; the
new tag replaces only the tag part of that one scalar, inside its quotes if it
has them. Comments, key order, quoting and anchors elsewhere stay byte for
byte. Images that cannot be changed in one place safely (pinned by digest,
shared through an anchor, set by a ``${VAR}``) are refused with the line to
edit by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode

from ..errors import EditError
from ..model import Step, StepKind
from .base import FileEdit, KindDef, StepContext, StepOutcome, StepRunner

if TYPE_CHECKING:
    from .. import edits
    from ..loader.nodes import MappedNode, NodeReader


# --- the kind: its spec, keys and reader ----------------------------------------


@dataclass(frozen=True, slots=True)
class ComposeImageSpec:
    """Change one service's image tag in a compose file."""

    service: str
    tag: str
    file: str = "docker-compose.yml"
    allow_read_only: bool = False  # edit the file even when its owner has no write bit
    outside_workdir: bool = False  # the file may be outside the working directory


def read(r: NodeReader, m: MappedNode, what: str) -> ComposeImageSpec:
    """A compose_image step's keys."""
    return ComposeImageSpec(
        service=r.text(m, "service", what),
        tag=r.text(m, "tag", what),
        file=r.text(m, "file", what, "docker-compose.yml"),
        allow_read_only=r.boolean(m, "allow_read_only", what),
        outside_workdir=r.boolean(m, "outside_workdir", what),
    )


# --- the runner ------------------------------------------------------------------

__all__ = [
    "TAG_RULE",
    "ComposeImageRunner",
    "current_image",
    "plan_compose_edit",
    "services",
    "split_image",
]

# Docker's rule for a tag.
TAG_RULE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


class _TrackingLoader(yaml.SafeLoader):
    """A loader that remembers which nodes were reached through an alias, and where."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliased: dict[int, int] = {}  # id(node) -> 1-based line of the first alias to it

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(AliasEvent):
            line = self.peek_event().start_mark.line + 1
            node = super().compose_node(parent, index)
            self.aliased.setdefault(id(node), line)
            return node
        return super().compose_node(parent, index)


@dataclass(frozen=True, slots=True)
class _Parsed:
    path: Path
    raw: bytes
    text: str
    root: Node | None
    aliased: dict[int, int]


@dataclass(frozen=True, slots=True)
class _ImageScalar:
    """Where one service's image string sits in the text (``start``/``end`` exclude quotes)."""

    value: str
    start: int
    end: int
    line: int


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _parse(path: Path) -> _Parsed:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise EditError(
            path, "no such file", "check the step's file: (default docker-compose.yml) and cwd"
        ) from None
    except OSError as exc:
        raise EditError(path, f"cannot read: {exc.strerror or exc}", "check its permissions") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditError(path, f"is not UTF-8 (byte {exc.start})", "save it as UTF-8") from None
    loader = _TrackingLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise EditError(where, f"YAML syntax error: {exc.problem or exc}", "fix the file and retry") from None
    except yaml.YAMLError as exc:
        raise EditError(path, f"YAML error: {exc}", "fix the file and retry") from None
    finally:
        loader.dispose()
    return _Parsed(path, raw, text, root, loader.aliased)


def _entries(node: MappingNode, key: str) -> list[tuple[ScalarNode, Node]]:
    return [(k, v) for k, v in node.value if isinstance(k, ScalarNode) and k.value == key]


def _one(parsed: _Parsed, node: MappingNode, key: str, where: str) -> tuple[ScalarNode, Node] | None:
    found = _entries(node, key)
    if len(found) > 1:
        lines = ", ".join(str(_line(k)) for k, _ in found)
        raise EditError(parsed.path, f"{where} has {key}: more than once (lines {lines})", "keep only one")
    return found[0] if found else None


def _services_node(parsed: _Parsed) -> MappingNode:
    if not isinstance(parsed.root, MappingNode):
        raise EditError(
            parsed.path, "is not a compose file (its top level is not a mapping)", "check the file"
        )
    entry = _one(parsed, parsed.root, "services", "the file")
    if entry is None or not isinstance(entry[1], MappingNode):
        raise EditError(parsed.path, "has no services: mapping", "check that this is the compose file")
    return entry[1]


def services(path: Path) -> list[str]:
    """The service names in a compose file, in file order."""
    node = _services_node(_parse(path))
    return [str(k.value) for k, _ in node.value if isinstance(k, ScalarNode)]


def _refuse_shared(parsed: _Parsed, service: str, nodes: list[Node], line: int) -> None:
    for node in nodes:
        alias_line = parsed.aliased.get(id(node))
        if alias_line is not None:
            raise EditError(
                f"{parsed.path}:{line}",
                f"the image of service '{service}' is shared through a YAML anchor "
                f"(anchor at line {_line(node)}, alias at line {alias_line}); changing it here would "
                "change every service that uses the anchor",
                "change the image by hand, or give the service its own image: line",
            )


def _image_scalar(parsed: _Parsed, service: str) -> _ImageScalar:
    svcs = _services_node(parsed)
    entry = _one(parsed, svcs, service, "services")
    if entry is None:
        names = ", ".join(str(k.value) for k, _ in svcs.value if isinstance(k, ScalarNode)) or "none"
        raise EditError(
            parsed.path,
            f"no service '{service}' in {parsed.path.name}; services: {names}",
            "check the service name",
        )
    key, body = entry
    if not isinstance(body, MappingNode):
        raise EditError(
            f"{parsed.path}:{_line(key)}", f"service '{service}' is not a mapping", "check the file"
        )
    image = _one(parsed, body, "image", f"service '{service}'")
    if image is None:
        merge = _entries(body, "<<")
        if merge:
            raise EditError(
                f"{parsed.path}:{_line(merge[0][0])}",
                f"the image of service '{service}' comes from a merged anchor (<<)",
                "change the anchor by hand, or give the service its own image: line",
            )
        raise EditError(
            f"{parsed.path}:{_line(key)}",
            f"service '{service}' has no image: line",
            "add one, e.g. image: name:tag",
        )
    image_key, node = image
    where = f"{parsed.path}:{_line(image_key)}"
    _refuse_shared(parsed, service, [svcs, body, node], _line(image_key))
    if not isinstance(node, ScalarNode) or node.style not in (None, "'", '"'):
        raise EditError(
            where, f"the image of service '{service}' is not a one-line string", "edit it by hand"
        )
    start, end = int(node.start_mark.index), int(node.end_mark.index)
    if node.style:
        start, end = start + 1, end - 1
    if parsed.text[start:end] != node.value:
        raise EditError(
            where,
            f"the image of service '{service}' uses escapes or spans lines",
            "write it on one line, then retry",
        )
    return _ImageScalar(str(node.value), start, end, _line(image_key))


def split_image(image: str) -> tuple[str, str | None]:
    """``registry:5000/team/api:1.2`` -> (``registry:5000/team/api``, ``1.2``); no tag -> None."""
    slash = image.rfind("/")
    colon = image.rfind(":")
    if colon > slash:
        return image[:colon], image[colon + 1 :]
    return image, None


def _check_changeable(path: Path, scalar: _ImageScalar, service: str) -> None:
    where = f"{path}:{scalar.line}"
    if "$" in scalar.value:
        raise EditError(
            where,
            f"the image of service '{service}' is set by a variable ({scalar.value})",
            "change the variable where it is defined (for example in .env) instead",
        )
    if "@" in scalar.value:
        raise EditError(
            where,
            f"the image of service '{service}' is pinned by digest ({scalar.value}); a tag would be ignored",
            "replace the digest by hand with the tag you want",
        )
    if not scalar.value:
        raise EditError(where, f"the image of service '{service}' is empty", "give it a name:tag")


def current_image(path: Path, service: str) -> str:
    """The image reference a service uses, as written in the compose file."""
    return _image_scalar(_parse(path), service).value


def plan_compose_edit(
    path: Path, service: str, tag: str, *, target: edits.Target | None = None, allow_read_only: bool = False
) -> FileEdit | None:
    """The edit that points ``service`` at ``tag``; None when it already does. Raises EditError.

    ``target`` (from :func:`edits.resolve_target`) names the file in the diff and
    the summary; without it the file's own name is used.
    """
    from .. import edits

    target = target or edits.Target(path, path.name)
    if not TAG_RULE.fullmatch(tag):
        raise EditError(
            path,
            f"{tag!r} is not a valid image tag "
            "(letters, digits, _ . - ; at most 128; not starting with . or -)",
            "check the tag parameter",
        )
    missing = "check the step's file: (default docker-compose.yml) and cwd"
    edits.check_editable(path, missing_fix=missing, writing=False)  # before reading: a FIFO would block
    parsed = _parse(path)
    scalar = _image_scalar(parsed, service)
    _check_changeable(path, scalar, service)
    name, old_tag = split_image(scalar.value)
    if old_tag == tag:
        return None
    text = parsed.text[: scalar.start] + f"{name}:{tag}" + parsed.text[scalar.end :]
    written = _image_scalar(_parse_text(path, text), service).value
    if written != f"{name}:{tag}":
        raise EditError(path, f"the rewritten image would read {written!r}", "edit it by hand")
    # Only now that something would be written: links, read-only and owner.
    edits.check_editable(path, allow_read_only=allow_read_only)
    summary = f"{target.label}: service {service} image {scalar.value} -> {name}:{tag}"
    return edits.plan(
        path, parsed.raw, text.encode("utf-8"), summary, name=target.name, allow_read_only=allow_read_only
    )


def _parse_text(path: Path, text: str) -> _Parsed:
    loader = _TrackingLoader(text)
    try:
        return _Parsed(path, text.encode("utf-8"), text, loader.get_single_node(), loader.aliased)
    except yaml.YAMLError as exc:
        raise EditError(path, f"the rewritten file would not parse: {exc}", "edit it by hand") from None
    finally:
        loader.dispose()


def _spec(step: Step) -> ComposeImageSpec:
    if not isinstance(step.spec, ComposeImageSpec):
        raise TypeError(f"step {step.id} is not a compose_image step")
    return step.spec


class ComposeImageRunner(StepRunner):
    """Point one compose service at another image tag."""

    kind: ClassVar[StepKind] = StepKind.COMPOSE_IMAGE

    def __init__(self) -> None:
        from .. import edits

        self._planned = edits.PlannedEdits()

    def describe(self, step: Step) -> str:
        spec = _spec(step)
        return f"{spec.file}: set the image tag of service {spec.service} to {spec.tag}"

    @staticmethod
    def _plan(spec: ComposeImageSpec, target: edits.Target) -> FileEdit | None:
        return plan_compose_edit(
            target.path, spec.service, spec.tag, target=target, allow_read_only=spec.allow_read_only
        )

    def plan_edit(self, step: Step, ctx: StepContext) -> FileEdit | None:
        """The edit to confirm; None when the service already uses the tag. Raises EditError."""
        from .. import edits

        spec = _spec(step)
        target = edits.resolve_target(ctx.workdir, spec.file, outside_workdir=spec.outside_workdir)
        return self._planned.remember(step.id, spec, target.path, self._plan(spec, target))

    async def run(self, step: Step, ctx: StepContext) -> StepOutcome:
        from .. import edits
        from ..events import StepStatus  # the event classes load when a step runs, not with a runbook

        spec = _spec(step)
        try:
            target = edits.resolve_target(ctx.workdir, spec.file, outside_workdir=spec.outside_workdir)
            path = target.path
            # The edit that was shown and confirmed, if there was one; apply() refuses it if stale.
            edit = self._planned.take(step.id, spec, path) or self._plan(spec, target)
            if edit is None:
                message = f"already: service {spec.service} uses {current_image(path, spec.service)}"
                ctx.output(message, "info")
                return StepOutcome.passed(message)
            applied = edits.apply(edit, ctx.backup_dir, edits.journal_ahead_of(ctx))
        except EditError as exc:
            ctx.output(str(exc), "stderr")
            return StepOutcome.failed(str(exc))
        ctx.output(edit.summary, "info")
        return StepOutcome(StepStatus.PASSED, edit.summary, edit=applied)


KIND = KindDef(
    spec=ComposeImageSpec,
    keys=frozenset({"file", "service", "tag", "allow_read_only", "outside_workdir"}),
    required=("service", "tag"),
    read=read,
    runner=ComposeImageRunner,
    edits=True,
)
