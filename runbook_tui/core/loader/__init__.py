"""YAML runbooks -> the immutable model, with every problem located as file:line:col.

The loader reads PyYAML's node tree (``yaml.compose``, libyaml when available)
instead of plain Python values, so every element and every problem keeps the
line and column it came from. It never stops at the first problem: a run of
``validate`` lists them all.

The package is split by concern: ``source`` (text and positions), ``nodes`` (node
checks), ``parameters``, ``procedures`` (steps, fleet keys, the decision matrix)
and ``runbook`` (the whole, and the checks across parts). Each step kind's keys
and reader live with the kind, in ``core/steps/<kind>.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import Problem, RunbookLoadError
from ..model import Runbook
from .nodes import did_you_mean
from .runbook import RunbookBuilder
from .source import (
    MAX_BYTES,
    LineMap,
    SourceContext,
    YamlLoader,
    read_source,
    yaml_error_location,
    yaml_error_message,
)

__all__ = [
    "MAX_BYTES",
    "LineMap",
    "LoadResult",
    "check_file",
    "did_you_mean",
    "load_runbook",
    "load_text",
    "read_source",
    "try_load",
]


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


def _load_markdown(path: Path) -> LoadResult:
    from ..importer.markdown import import_markdown_file  # the importer only for a Markdown file

    try:
        imported = import_markdown_file(path)
    except RunbookLoadError as exc:
        return LoadResult(None, tuple(exc.problems), unreadable=exc.unreadable)
    return _load_text(imported.yaml_text, str(path), imported.line_map)


def _load_text(text: str, file: str, line_map: LineMap | None) -> LoadResult:
    ctx = SourceContext(file, text, line_map)
    try:
        root = yaml.compose(text, Loader=YamlLoader)
    except yaml.YAMLError as exc:
        ctx.error_at(yaml_error_location(ctx, exc), yaml_error_message(exc))
        return LoadResult(None, tuple(ctx.problems))
    except RecursionError:
        ctx.error_at(ctx.location(1, 1), "the YAML is nested too deeply to be a runbook")
        return LoadResult(None, tuple(ctx.problems))
    runbook = RunbookBuilder(ctx).runbook(root)
    ctx.problems.sort(key=lambda p: (p.location.line, p.location.column))
    if any(p.severity == "error" for p in ctx.problems):
        return LoadResult(None, tuple(ctx.problems))
    return LoadResult(runbook, tuple(ctx.problems))
