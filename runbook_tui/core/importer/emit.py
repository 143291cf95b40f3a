"""Emission: the drafts -> the runbook data, its YAML text, and the map from YAML lines
back to Markdown lines (through the source line each draft carries)."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

import yaml

from . import shell_blocks as sb
from .drafts import Entry, MatrixDraft, ParameterDraft, ProcedureDraft, RunbookDraft, StepDraft
from .text import join

Lines = dict[int, int]  # id() of an emitted mapping -> the Markdown line it came from


class _Dumper(yaml.SafeDumper):
    """Block scalars for multi-line text so the YAML reads like the Markdown it came from."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def runbook_data(
    header: dict[str, Any], draft: RunbookDraft, params: list[ParameterDraft], lines: Lines
) -> dict[str, Any]:
    """The runbook mapping in the order of docs/runbook-format.md; ``lines`` gets each mapping's line."""
    data = dict(header)
    if params:
        data["parameters"] = [_parameter(p, lines) for p in params]
    if draft.matrix:
        data["decision_matrix"] = _matrix(draft.matrix, lines)
    data["procedures"] = [_procedure(p, lines) for p in draft.procedures]
    for key, items in draft.out.items():
        if items:
            data[key] = [_plain(e, lines) for e in items]
    if draft.reference:
        data["reference"] = [_plain(e, lines) for e in _merge_reference(draft.reference)]
    return data


def _lined(mapping: dict[str, Any], line: int, lines: Lines) -> dict[str, Any]:
    lines[id(mapping)] = line
    return mapping


def _parameter(param: ParameterDraft, lines: Lines) -> dict[str, Any]:
    entry = {"name": param.name} | {k: v for k, v in param.fields.items() if v}
    entry.setdefault("pattern", sb.SAFE_PATTERN)
    return _lined(entry, param.line, lines)


def _matrix(matrix: MatrixDraft, lines: Lines) -> dict[str, Any]:
    rows = [_plain(r, lines) for r in matrix.rows]
    return _lined({"columns": _plain(matrix.columns, lines), "rows": rows}, matrix.line, lines)


def _procedure(proc: ProcedureDraft, lines: Lines) -> dict[str, Any]:
    return _lined({k: _plain(v, lines) for k, v in proc.fields.items()}, proc.line, lines)


def _plain(value: Any, lines: Lines) -> Any:
    """A fresh copy of ``value`` with drafts turned into mappings (no object is emitted twice)."""
    if isinstance(value, Entry | StepDraft):
        return _lined({k: _plain(v, lines) for k, v in value.fields.items()}, value.line, lines)
    if isinstance(value, dict):
        return {k: _plain(v, lines) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, lines) for v in value]
    return value


def _merge_reference(sections: list[Entry]) -> list[Entry]:
    """Sections of the same id become one, their bodies joined; an empty body is the title."""
    merged: dict[str, Entry] = {}
    for sec in sections:
        key = sec.fields["id"]
        if key in merged:
            merged[key].fields["body"] = join(merged[key].fields["body"], sec.fields["body"])
        else:
            merged[key] = Entry(sec.line, dict(sec.fields))
    for sec in merged.values():
        sec.fields["body"] = sec.fields["body"] or sec.fields["title"]
    return list(merged.values())


def dump(data: dict[str, Any], header: str) -> str:
    """The YAML text: ``header``, then block scalars for multi-line text, keys in their order."""
    return header + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def line_map(yaml_text: str, data: dict[str, Any], lines: Lines) -> Callable[[int], int]:
    """Map YAML lines to Markdown lines through the mappings that have a source line."""
    node = yaml.compose(yaml_text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    pairs: list[tuple[int, int]] = []

    def walk(value: Any, n: Any) -> None:
        if isinstance(value, dict) and isinstance(n, yaml.MappingNode):
            if id(value) in lines:
                pairs.append((n.start_mark.line + 1, lines[id(value)]))
            children = {k.value: v for k, v in n.value}
            for key, sub in value.items():
                if key in children:
                    walk(sub, children[key])
        elif isinstance(value, list) and isinstance(n, yaml.SequenceNode):
            for sub, sub_node in zip(value, n.value, strict=False):
                walk(sub, sub_node)

    walk(data, node)
    pairs.sort()
    keys = [p[0] for p in pairs]

    def mapped(yaml_line: int) -> int:
        i = bisect.bisect_right(keys, yaml_line) - 1
        return pairs[i][1] if i >= 0 else 1

    return mapped
