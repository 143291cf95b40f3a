"""``runbook-tui list`` and ``runbook-tui show RUNBOOK``, for people (80 columns) and scripts (--json).

The JSON shapes are a contract documented in docs/cli-json.md: fields are only
ever added, never renamed or removed.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import Problem
from ..core.library import RunbookEntry, find_runbooks, resolve_runbook

if TYPE_CHECKING:  # `list` reads the library index; only `show` loads a runbook
    from ..core.durations import Window
    from ..core.model import DecisionRow, FleetSpec, Parameter, Procedure, Runbook, Step

PHASES = (("prechecks", "precheck"), ("steps", "step"), ("verification", "verification"))


def run(args: argparse.Namespace) -> int:
    """Dispatch ``list`` or ``show``."""
    extra = [Path(d) for d in getattr(args, "runbooks", None) or []]
    if args.command == "show":
        return _show(args.runbook, extra, as_json=args.json)
    return _list(extra, as_json=args.json)


# --- JSON shapes (docs/cli-json.md) --------------------------------------------


def _seconds(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == int(value) else value


def _window_seconds(window: Window | None) -> float | int | None:
    return _seconds(window.target_seconds) if window else None


def problem_json(problem: Problem) -> dict[str, Any]:
    """One problem: where, what, how bad."""
    loc = problem.location
    return {
        "file": loc.file,
        "line": loc.line or None,
        "column": loc.column or None,
        "message": problem.message,
        "severity": problem.severity,
    }


def entry_json(entry: RunbookEntry) -> dict[str, Any]:
    """One runbook of ``list --json`` (from the library index: no runbook is loaded)."""
    procedures = entry.summary.procedures if entry.summary else ()
    return {
        "id": entry.id,
        "title": entry.title,
        "path": str(entry.path),
        "source": entry.source,
        "ok": entry.ok,
        "procedures": [
            {"id": p.id, "title": p.title, "target_seconds": _seconds(p.target_seconds)} for p in procedures
        ],
        "problems": [problem_json(p) for p in entry.problems],
    }


def step_json(step: Step, phase: str) -> dict[str, Any]:
    return {
        "id": step.id,
        "title": step.title,
        "kind": step.kind.value,
        "phase": phase,
        "destructive": step.destructive,
        "line": step.location.line or None,
        **_strict_json(step),
        **_fleet_json(step),
    }


def _fleet_json(step: Step) -> dict[str, Any]:
    """On fleet steps: the host pattern, the batches (``serial``) and the blast-radius cap."""
    fleet = step.fleet
    if fleet is None:
        return {}
    return {"targets": fleet.targets, "serial": list(fleet.serial), "max_hosts": fleet.max_hosts}


def _strict_json(step: Step) -> dict[str, Any]:
    """``"strict"`` for the steps that run bash: whether a failed line stops them (-e/pipefail)."""
    strict = getattr(step.spec, "strict", None)
    return {"strict": strict} if isinstance(strict, bool) else {}


def procedure_json(proc: Procedure) -> dict[str, Any]:
    steps = [step_json(step, phase) for attr, phase in PHASES for step in getattr(proc, attr)]
    return {
        "id": proc.id,
        "title": proc.title,
        "target_seconds": _seconds(proc.target_seconds),
        "window": proc.window.text if proc.window else None,
        "when": proc.when,
        "steps": steps,
    }


def parameter_json(param: Parameter) -> dict[str, Any]:
    return {
        "name": param.name,
        "description": param.description,
        "secret": param.secret,
        "required": param.required,
        "choices": list(param.choices),
        "pattern": param.pattern,
        "default": param.default,
    }


def row_json(row: DecisionRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "issue": row.issue,
        "threshold": row.threshold,
        "action": row.action,
        "procedure": row.procedure,
        "deadline_seconds": _window_seconds(row.deadline),
    }


def runbook_json(rb: Runbook) -> dict[str, Any]:
    """The outline of ``show --json``."""
    return {
        "id": rb.id,
        "title": rb.title,
        "path": rb.path,
        "procedures": [procedure_json(p) for p in rb.procedures],
        "parameters": [parameter_json(p) for p in rb.parameters],
        "decision_matrix": [row_json(r) for r in rb.decision_matrix.rows],
    }


def _print_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


# --- list --------------------------------------------------------------------


def _list(extra: list[Path], *, as_json: bool) -> int:
    entries = find_runbooks(extra)
    if as_json:
        _print_json([entry_json(e) for e in entries])
        return 0
    width = _width()
    if not entries:
        print("No runbooks found. Add a folder with --runbooks DIR or runbook_dirs in the config file.")
        return 0
    id_width = min(max(len(e.id) for e in entries), 28)
    print(f"{'ID':<{id_width}}  {'PROCS':>5}  {'SOURCE':<7}  TITLE")
    for entry in entries:
        count = str(len(entry.summary.procedures)) if entry.summary else "-"
        title = entry.title if entry.ok else f"BROKEN: {_first_error(entry)}"
        line = f"{_fit(entry.id, id_width):<{id_width}}  {count:>5}  {entry.source:<7}  {title}"
        print(_fit(line, width))
    broken = sum(1 for e in entries if not e.ok)
    note = f"; {broken} broken (runbook-tui validate PATH says why)" if broken else ""
    print(f"\n{len(entries)} runbook{'s' if len(entries) != 1 else ''}{note}")
    return 0


def _first_error(entry: RunbookEntry) -> str:
    for problem in entry.problems:
        if problem.severity == "error":
            return problem.message
    return "does not load"


# --- show --------------------------------------------------------------------


def _show(ref: str, extra: list[Path], *, as_json: bool) -> int:
    rb = resolve_runbook(ref, extra)
    if as_json:
        _print_json(runbook_json(rb))
        return 0
    width = _width()
    for line in outline(rb):
        print(_fit(line, width))
    return 0


def outline(rb: Runbook) -> Iterable[str]:
    """The human outline of a runbook, one line at a time."""
    yield f"{rb.title} ({rb.id})"
    yield rb.path
    if rb.parameters:
        yield ""
        yield "Parameters"
        for param in rb.parameters:
            yield f"  {param.name:<22} {_param_note(param)}"
    if rb.decision_matrix.rows:
        yield ""
        yield "Decision matrix"
        for row in rb.decision_matrix.rows:
            yield f"  {row.id:<18} {_row_note(row)}"
    for number, proc in enumerate(rb.procedures, start=1):
        yield ""
        window = f"  [{proc.window.text}]" if proc.window else ""
        yield f"{number}. {proc.title} ({proc.id}){window}"
        if proc.when:
            yield f"   When: {proc.when.strip().splitlines()[0]}"
        for attr, phase in PHASES:
            for step in getattr(proc, attr):
                label = {"precheck": "check", "step": "step", "verification": "verify"}[phase]
                mark = "!" if step.destructive else " "
                loose = "  (strict: false)" if getattr(step.spec, "strict", True) is False else ""
                yield f"   {label:<6} {mark}{step.kind.value:<14} {step.id}: {step.title}{loose}"
                if step.fleet is not None:
                    yield f"   {'':<6}  {'':<14} on {_fleet_note(step.fleet)}"


def _fleet_note(fleet: FleetSpec) -> str:
    """``hosts web, serial 1, 30%, at most 12 hosts`` for a fleet step's outline line."""
    bits = [f"hosts {fleet.targets}"]
    if fleet.serial:
        bits.append("serial " + ", ".join(fleet.serial))
    if fleet.max_hosts is not None:
        bits.append(f"at most {fleet.max_hosts} hosts")
    return "; ".join(bits)


def _param_note(param: Parameter) -> str:
    bits = [param.description.strip().splitlines()[0]] if param.description.strip() else []
    if param.choices:
        bits.append("one of " + ", ".join(param.choices))
    if param.default is not None:
        bits.append(f"default {param.default}")
    if param.secret:
        bits.append("secret")
    return "; ".join(bits)


def _row_note(row: DecisionRow) -> str:
    text = row.issue + (f" {row.threshold}" if row.threshold else "")
    target = f" -> {row.procedure}" if row.procedure else ""
    deadline = f" (deadline {row.deadline.text})" if row.deadline else ""
    return f"{text}{target}{deadline}"


# --- layout ------------------------------------------------------------------


def _width() -> int:
    return max(40, shutil.get_terminal_size((80, 24)).columns)


def _fit(text: str, width: int) -> str:
    """``text`` cut to ``width`` columns, with an ellipsis when cut."""
    text = text.replace("\n", " ").rstrip()
    return text if len(text) <= width else text[: width - 1] + "…"
