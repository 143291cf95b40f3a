"""cargo_features steps: change ``[features] default`` in a Cargo.toml, keeping every other byte.

tomlkit parses the file and rewrites only the ``default`` array. The new array
is spliced into the original text at the array's exact span, so comments,
order and whitespace everywhere else are kept byte for byte; the result is
parsed again to prove it says what was intended.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import EditError
from ..model import Step, StepKind
from .base import FileEdit, KindDef, StepContext, StepOutcome, StepRunner

if TYPE_CHECKING:
    import tomlkit
    from tomlkit.items import Array

    from .. import edits
    from ..loader.nodes import MappedNode, NodeReader


# --- the kind: its spec, keys and reader ----------------------------------------


@dataclass(frozen=True, slots=True)
class CargoFeaturesSpec:
    """Change ``[features] default`` in a Cargo.toml: ``remove`` and ``add`` entries, or ``set`` it."""

    file: str = "Cargo.toml"
    remove: tuple[str, ...] = ()
    add: tuple[str, ...] = ()
    set: tuple[str, ...] | None = None
    allow_read_only: bool = False  # edit the file even when its owner has no write bit
    outside_workdir: bool = False  # the file may be outside the working directory


def read(r: NodeReader, m: MappedNode, what: str) -> CargoFeaturesSpec:
    """A cargo_features step's keys: ``set`` alone, or ``add``/``remove``."""
    if not any(key in m.values for key in ("remove", "add", "set")):
        r.ctx.error(m.node, f"{what} needs 'remove', 'add' or 'set' (the features to change)")
    if "set" in m.values and any(key in m for key in ("remove", "add")):
        r.ctx.error(m.keys["set"], f"{what}: use 'set' alone, or 'add'/'remove', not both")
    return CargoFeaturesSpec(
        file=r.text(m, "file", what, "Cargo.toml"),
        remove=r.text_list(m, "remove", what),
        add=r.text_list(m, "add", what),
        set=r.text_list(m, "set", what) if "set" in m.values else None,
        allow_read_only=r.boolean(m, "allow_read_only", what),
        outside_workdir=r.boolean(m, "outside_workdir", what),
    )


# --- the runner ------------------------------------------------------------------

__all__ = ["CargoFeaturesRunner", "new_default_features", "plan_cargo_edit"]

_DEP_TABLES = ("dependencies", "build-dependencies", "dev-dependencies")


def _spec(step: Step) -> CargoFeaturesSpec:
    if not isinstance(step.spec, CargoFeaturesSpec):
        raise TypeError(f"step {step.id} is not a cargo_features step")
    return step.spec


def _parse(path: Path, text: str) -> tomlkit.TOMLDocument:
    import tomlkit  # only when a Cargo.toml is planned or edited, not when a runbook loads
    from tomlkit.exceptions import ParseError

    try:
        return tomlkit.parse(text)
    except ParseError as exc:
        raise EditError(
            f"{path}:{exc.line}:{exc.col}", f"TOML syntax error: {exc}", "fix the file and retry"
        ) from None


def _features_table(path: Path, doc: tomlkit.TOMLDocument) -> Any:
    features = doc.get("features")
    if features is None:
        raise EditError(
            path, "has no [features] table", "add one with a default = [...] entry, or check the file"
        )
    if not hasattr(features, "get"):
        raise EditError(path, "features is not a table", "make it a [features] table")
    return features


def _default_array(path: Path, features: Any) -> Array:
    from tomlkit.items import Array

    default = features.get("default")
    if default is None:
        declared = ", ".join(str(k) for k in features) or "none"
        raise EditError(
            path,
            f"[features] has no default key (features: {declared})",
            "add default = [...] to [features]",
        )
    if not isinstance(default, Array) or not all(isinstance(v, str) for v in default):
        raise EditError(path, "[features] default is not a list of strings", 'make it default = ["..."]')
    return default


def _optional_dependencies(doc: tomlkit.TOMLDocument) -> set[str]:
    names: set[str] = set()
    for table in _DEP_TABLES:
        for name, value in (doc.get(table) or {}).items():
            if hasattr(value, "get") and value.get("optional") is True:
                names.add(str(name))
    return names


def _all_dependencies(doc: tomlkit.TOMLDocument) -> set[str]:
    return {str(name) for table in _DEP_TABLES for name in (doc.get(table) or {})}


def _is_declared(entry: str, features: Any, doc: tomlkit.TOMLDocument) -> bool:
    """Whether ``entry`` may appear in a features list (a feature, dep:x, x/feat or an optional dep)."""
    if entry in features and entry != "default":
        return True
    if entry.startswith("dep:"):
        return entry[4:] in _optional_dependencies(doc)
    if "/" in entry:
        return entry.split("/", 1)[0].rstrip("?") in _all_dependencies(doc)
    return entry in _optional_dependencies(doc)


def _show(values: Iterable[str]) -> str:
    return "[" + ", ".join(f'"{v}"' for v in values) + "]"


def new_default_features(
    path: Path, doc: tomlkit.TOMLDocument, spec: CargoFeaturesSpec
) -> tuple[list[str], list[str]]:
    """The default list after the change, and notes for entries that needed no change."""
    features = _features_table(path, doc)
    current = [str(v) for v in _default_array(path, features)]
    declared = [str(k) for k in features if k != "default"]
    for entry in spec.remove:
        if entry not in current and not _is_declared(entry, features, doc):
            raise EditError(
                path,
                f"{entry} is not in default features (default = {_show(current)}) and no feature of that "
                f"name is declared in [features] (declared: {', '.join(declared) or 'none'})",
                "check the spelling in the runbook",
            )
    for entry in [*spec.add, *(spec.set or ())]:
        if not _is_declared(entry, features, doc):
            raise EditError(
                path,
                f"cannot add {entry} to default features: it is not declared in [features] "
                f"(declared: {', '.join(declared) or 'none'})",
                "declare it in [features] first, or check the spelling in the runbook",
            )
    if spec.set is not None:
        return list(dict.fromkeys(spec.set)), []
    notes: list[str] = []
    result = list(current)
    for entry in spec.remove:
        if entry in result:
            result = [v for v in result if v != entry]
        else:
            notes.append(f"{entry} is not in default features (default = {_show(current)})")
    for entry in spec.add:
        if entry in result:
            notes.append(f"{entry} is already in default features")
        else:
            result.append(entry)
    return result, notes


def _splice(path: Path, text: str, new_values: Sequence[str]) -> str:
    """``text`` with only the ``[features] default`` array replaced by ``new_values``."""
    # The array's exact span: swap it for a unique marker and see where the marker lands.
    import uuid

    import tomlkit

    marker = f"rbt-{uuid.uuid4().hex}"
    marked = tomlkit.parse(text)
    _features_table(path, marked)["default"] = marker
    rendered = marked.as_string()
    at = rendered.find(f'"{marker}"')
    prefix, suffix = rendered[:at], rendered[at + len(marker) + 2 :]
    old_array = text[len(prefix) : len(text) - len(suffix)]
    if at < 0 or not text.startswith(prefix) or not text.endswith(suffix) or not old_array.startswith("["):
        raise EditError(path, "could not locate the default array exactly", "edit [features] default by hand")
    array = _default_array(path, _features_table(path, tomlkit.parse(text)))
    for value in [str(v) for v in array]:
        if value not in new_values:
            array.remove(value)
    for value in new_values:
        if value not in array:
            array.append(value)
    return prefix + array.as_string() + suffix


def _check(path: Path, text: str, expected: Sequence[str]) -> list[str]:
    """The default list ``text`` declares, proven to hold exactly ``expected``."""
    got = [str(v) for v in _default_array(path, _features_table(path, _parse(path, text)))]
    if sorted(got) != sorted(expected):
        raise EditError(
            path, f"the rewritten default would be {got}, not {list(expected)}", "edit it by hand"
        )
    return got


def plan_cargo_edit(
    path: Path, spec: CargoFeaturesSpec, *, target: edits.Target | None = None
) -> tuple[FileEdit | None, list[str]]:
    """The edit for ``spec`` (None when nothing changes) and notes on entries already as wanted.

    ``target`` (from :func:`edits.resolve_target`) names the file in the diff and
    the summary; without it the file's own name is used.
    """
    from .. import edits

    target = target or edits.Target(path, path.name)
    missing = "check the step's file: (default Cargo.toml) and cwd"
    edits.check_editable(path, missing_fix=missing, writing=False)  # before reading: a FIFO would block
    try:
        before = path.read_bytes()
    except FileNotFoundError:
        raise EditError(path, "no such file", "check the step's file: (default Cargo.toml) and cwd") from None
    except OSError as exc:
        raise EditError(path, f"cannot read: {exc.strerror or exc}", "check its permissions") from None
    try:
        text = before.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditError(path, f"is not UTF-8 (byte {exc.start})", "save it as UTF-8") from None
    doc = _parse(path, text)
    values, notes = new_default_features(path, doc, spec)
    current = [str(v) for v in _default_array(path, _features_table(path, doc))]
    if sorted(values) == sorted(current):
        return None, notes
    after = _splice(path, text, values)
    if after == text:
        return None, notes
    written = _check(path, after, values)
    # Only now that something would be written: links, read-only and owner.
    edits.check_editable(path, allow_read_only=spec.allow_read_only)
    summary = f"{target.label}: [features] default = {_show(current)} -> {_show(written)}"
    edit = edits.plan(
        path, before, after.encode("utf-8"), summary, name=target.name, allow_read_only=spec.allow_read_only
    )
    return edit, notes


class CargoFeaturesRunner(StepRunner):
    """Set, add or remove entries of ``[features] default`` in a Cargo.toml."""

    kind: ClassVar[StepKind] = StepKind.CARGO_FEATURES

    def __init__(self) -> None:
        from .. import edits

        self._planned = edits.PlannedEdits()

    def describe(self, step: Step) -> str:
        spec = _spec(step)
        parts = [
            f"remove {', '.join(spec.remove)}" if spec.remove else "",
            f"add {', '.join(spec.add)}" if spec.add else "",
        ]
        if spec.set is not None:
            parts = [f"set to {_show(spec.set)}"]
        return f"{spec.file}: [features] default: {'; '.join(p for p in parts if p)}"

    def plan_edit(self, step: Step, ctx: StepContext) -> FileEdit | None:
        """The edit to confirm; None when default already is as wanted. Raises EditError."""
        from .. import edits

        spec = _spec(step)
        target = edits.resolve_target(ctx.workdir, spec.file, outside_workdir=spec.outside_workdir)
        return self._planned.remember(
            step.id, spec, target.path, plan_cargo_edit(target.path, spec, target=target)[0]
        )

    async def run(self, step: Step, ctx: StepContext) -> StepOutcome:
        from .. import edits
        from ..events import StepStatus  # the event classes load when a step runs, not with a runbook

        spec = _spec(step)
        try:
            target = edits.resolve_target(ctx.workdir, spec.file, outside_workdir=spec.outside_workdir)
            path = target.path
            # The edit that was shown and confirmed, if there was one; apply() refuses it if stale.
            notes: list[str] = []
            edit = self._planned.take(step.id, spec, path)
            if edit is None:
                edit, notes = plan_cargo_edit(path, spec, target=target)
            if edit is None:
                message = "already as wanted: " + "; ".join(notes) if notes else "already as wanted"
                ctx.output(message, "info")
                return StepOutcome.passed(message)
            applied = edits.apply(edit, ctx.backup_dir, edits.journal_ahead_of(ctx))
        except EditError as exc:
            ctx.output(str(exc), "stderr")
            return StepOutcome.failed(str(exc))
        ctx.output(edit.summary, "info")
        for note in notes:
            ctx.output(note, "info")
        return StepOutcome(StepStatus.PASSED, edit.summary, edit=applied)


KIND = KindDef(
    spec=CargoFeaturesSpec,
    keys=frozenset({"file", "remove", "add", "set", "allow_read_only", "outside_workdir"}),
    read=read,
    runner=CargoFeaturesRunner,
    edits=True,
)
