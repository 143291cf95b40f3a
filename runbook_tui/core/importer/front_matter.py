"""The YAML front matter of a Markdown runbook (``---`` ... ``---``) and what it sets."""

from __future__ import annotations

from typing import Any

import yaml

from ..durations import DurationError, parse_window
from ..errors import Location, Problem, RunbookLoadError
from .drafts import Context, ProcedureDraft

_FRONT_WINDOW = ("rto", "recovery_time", "recovery_window", "estimated_time", "target_time", "time")


def read_front_matter(text: str, path: str) -> tuple[dict[str, Any], str, int]:
    """(front matter, the body after it, the number of lines it took); ({}, text, 0) without one."""
    if not text.startswith("---"):
        return {}, text, 0
    lines = text.splitlines(keepends=True)
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return _mapping("".join(lines[1:i]), path), "".join(lines[i + 1 :]), i + 1
    return {}, text, 0


def _mapping(text: str, path: str) -> dict[str, Any]:
    try:
        meta = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        raise RunbookLoadError(
            [Problem(Location(path, line, 1), f"front matter is not valid YAML: {exc}")]
        ) from exc
    if not isinstance(meta, dict):
        raise RunbookLoadError([Problem(Location(path, 2, 1), "front matter must be a mapping")])
    return meta


def apply_window(meta: dict[str, Any], procedures: list[ProcedureDraft], ctx: Context) -> None:
    """``rto: 15 minutes`` in front matter: the window of every procedure that states none."""
    key = next((k for k in _FRONT_WINDOW if meta.get(k) is not None), None)
    if key is None:
        return
    value = str(meta[key]).strip()
    try:
        parse_window(value)
    except DurationError:
        ctx.note(1, f"front matter {key}: {value!r} is not a duration; ignored")
        return
    for proc in procedures:
        if "recovery_window" not in proc.fields:
            proc.fields["recovery_window"] = value
            ctx.note(proc.line, f"recovery window {value!r} (front matter {key})")


def runbook_header(meta: dict[str, Any], title: str, description: str, fallback_id: str) -> dict[str, Any]:
    """The runbook's own keys: id, title, description, and owner, severity, tags from front matter."""
    data: dict[str, Any] = {"runbook": 1, "id": str(meta.get("id") or fallback_id), "title": title}
    if description:
        data["description"] = description
    for key in ("owner", "severity"):
        if meta.get(key):
            data[key] = str(meta[key])
    if meta.get("tags"):
        tags = meta["tags"]
        data["tags"] = [str(t) for t in (tags if isinstance(tags, list) else str(tags).split(","))]
    return data
