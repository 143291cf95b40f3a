"""Markdown runbook -> YAML runbook (the format in docs/runbook-format.md).

Headings become procedures, step groups and reference sections; fenced shell
blocks become steps; tables become the decision matrix, roles, contacts and
alert thresholds; checkboxes and task lists become checklists; untyped fences
under a "templates" heading become communication templates. Whatever is not
understood is kept as reference text, so nothing of the source is lost, and
``report`` says what became what.

This module is the entry point; each concern has its module beside it:
``front_matter``, ``classify`` (what a heading or block is), ``sections`` and
``procedures`` (the walk), ``steps``, ``tables``, ``parameters`` and ``emit``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Location, Problem, RunbookLoadError
from . import emit
from . import shell_blocks as sb
from .blocks import Section, parse
from .classify import is_step_block
from .drafts import Context, ReportLine
from .front_matter import apply_window, read_front_matter, runbook_header
from .parameters import code_text, describe_parameters
from .sections import RunbookDraftBuilder
from .shell_parse import assigned_names
from .tables import link_matrix
from .text import Source, clean_title, join, raw_block, slug

__all__ = ["ImportResult", "ReportLine", "import_markdown", "import_markdown_file"]


@dataclass(frozen=True)
class ImportResult:
    """The YAML text, the data it holds, and how its lines map back to the Markdown."""

    yaml_text: str
    data: dict[str, Any]
    line_map: Callable[[int], int]
    report: tuple[ReportLine, ...]
    source: str


def import_markdown(text: str, path: str) -> ImportResult:
    """Turn Markdown ``text`` (read from ``path``) into a YAML runbook."""
    meta, body, offset = read_front_matter(text, path)
    root = parse(body, offset)
    ctx = _context(text)
    builder = RunbookDraftBuilder(ctx)
    top = root.children[0] if len(root.children) == 1 and root.children[0].level == 1 else root
    title = str(meta.get("title") or (top.title if top is not root else Path(path).stem))
    description = _read_document(builder, root, top)
    if meta.get("description"):
        description = join(str(meta["description"]), description)
    draft = builder.draft
    apply_window(meta, draft.procedures, ctx)
    params = describe_parameters(ctx)
    link_matrix(draft.matrix, draft.procedures)
    title = clean_title(title)
    lines: emit.Lines = {}
    data = emit.runbook_data(runbook_header(meta, title, description, slug(title)), draft, params, lines)
    if not draft.procedures:
        raise RunbookLoadError(
            [
                Problem(
                    Location(path, 1, 1),
                    "found no procedure: no heading has shell code blocks or numbered steps",
                )
            ]
        )
    yaml_text = emit.dump(data, f"# Imported from {Path(path).name} by runbook-tui import; edit freely.\n")
    return ImportResult(
        yaml_text=yaml_text,
        data=data,
        line_map=emit.line_map(yaml_text, data, lines),
        report=tuple(sorted(ctx.report, key=lambda r: r.line)),
        source=path,
    )


def _context(text: str) -> Context:
    lines = text.splitlines()
    params = sb.Params()
    params.assigned = assigned_names(code_text(lines))
    return Context(Source(lines), params)


def _read_document(builder: RunbookDraftBuilder, root: Section, top: Section) -> str:
    """Read every section into the builder's draft; the runbook's description is returned."""
    description = "\n\n".join(raw_block(b) for b in top.blocks)
    if top is not root and root.blocks:
        description = join("\n\n".join(raw_block(b) for b in root.blocks), description)
    if top is not root and any(is_step_block(b) for b in top.blocks):
        builder.procedures.read(top)  # a document that is one procedure: "# Restart the API" + steps
        return ""
    for section in top.children if top is not root else root.children:
        builder.section(section)
    return description


def import_markdown_file(path: Path) -> ImportResult:
    """Read and import a Markdown runbook; unreadable files raise a located error."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RunbookLoadError(
            [Problem(Location(str(path)), f"cannot read: {exc.strerror or exc}")], unreadable=True
        ) from exc
    if b"\x00" in raw:
        raise RunbookLoadError(
            [Problem(Location(str(path)), "is a binary file, not Markdown")], unreadable=True
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RunbookLoadError(
            [Problem(Location(str(path), line, 1), "is not UTF-8 text; save it as UTF-8")], unreadable=True
        ) from exc
    return import_markdown(text, str(path))
