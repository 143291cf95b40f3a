"""``runbook-tui validate PATH...``: every problem as ``file:line:col: message``.

Exit 0 when every file is clean (warnings allowed), 1 when any has problems,
2 when a path is missing or a file cannot be read at all.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import Location, Problem
from ..core.library import is_drill_definition, runbook_files
from ..core.loader import try_load

EXIT_OK, EXIT_PROBLEMS, EXIT_UNREADABLE = 0, 1, 2
FOLDER_SUFFIXES = (".yaml", ".yml")  # in folders; a .md file is checked when named


@dataclass(frozen=True)
class _Checked:
    path: Path
    problems: tuple[Problem, ...]
    unreadable: bool = False
    runbook_id: str | None = None


@dataclass
class _Tally:
    files: int = 0
    failed: int = 0
    errors: int = 0
    warnings: int = 0
    unreadable: bool = False
    ids: dict[str, Path] = field(default_factory=dict)


def run(args: argparse.Namespace) -> int:
    """Check every file named or found under the folders named; print problems, then a summary."""
    tally = _Tally()
    for raw in args.paths:
        for checked in _check_path(Path(raw)):
            _report(checked, tally)
    _summary(tally)
    if tally.unreadable:
        return EXIT_UNREADABLE
    return EXIT_PROBLEMS if tally.errors else EXIT_OK


def _check_path(path: Path) -> list[_Checked]:
    if path.is_dir():
        files = [p for p in runbook_files(path) if p.suffix.lower() in FOLDER_SUFFIXES]
        if not files:
            problem = Problem(Location(str(path)), "no .yaml or .yml runbooks in this folder")
            return [_Checked(path, (problem,), unreadable=True)]
        return [_check_file(p) for p in files]
    if is_drill_definition(path) and path.exists():
        return []  # named explicitly but not a runbook: drill definitions have their own checks
    return [_check_file(path)]


def _check_file(path: Path) -> _Checked:
    result = try_load(path)
    runbook_id = result.runbook.id if result.runbook is not None else None
    return _Checked(path, result.problems, result.unreadable, runbook_id)


def _report(checked: _Checked, tally: _Tally) -> None:
    tally.files += 1
    tally.unreadable |= checked.unreadable
    problems = list(checked.problems)
    if checked.runbook_id is not None:
        first = tally.ids.setdefault(checked.runbook_id, checked.path)
        if first != checked.path:  # two files with one id: `show ID` could open only one
            message = f"runbook id {checked.runbook_id!r} is also used by {first}"
            problems.append(Problem(Location(str(checked.path)), message, severity="warning"))
    for problem in problems:
        print(problem)
    errors = sum(1 for p in problems if p.severity == "error")
    tally.errors += errors
    tally.warnings += len(problems) - errors
    tally.failed += 1 if errors else 0


def _summary(tally: _Tally) -> None:
    files = f"{tally.files} file{'s' if tally.files != 1 else ''} checked"
    if not tally.errors and not tally.unreadable:
        extra = f", {tally.warnings} warning{'s' if tally.warnings != 1 else ''}" if tally.warnings else ""
        print(f"{files}: all valid{extra}", file=sys.stderr)
        return
    parts = [f"{tally.errors} problem{'s' if tally.errors != 1 else ''} in {tally.failed} file(s)"]
    if tally.warnings:
        parts.append(f"{tally.warnings} warning(s)")
    if tally.unreadable:
        parts.append("some input could not be read")
    print(f"{files}: {', '.join(parts)}", file=sys.stderr)
