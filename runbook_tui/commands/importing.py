"""``runbook-tui import FILE.md [-o OUT] [--report]``: Markdown runbook -> YAML runbook."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from ..core.errors import RunbookLoadError


def run(args: argparse.Namespace) -> int:
    from ..core.importer.markdown import import_markdown_file
    from ..core.loader import load_text

    source = Path(args.file)
    try:
        result = import_markdown_file(source)
        # What we write must load: validate the YAML against the Markdown's own lines.
        load_text(result.yaml_text, str(source), line_map=result.line_map)
    except RunbookLoadError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return exc.exit_code
    if args.report:
        out = sys.stderr if not args.output else sys.stdout
        for line in result.report:
            print(f"{source}:{line}", file=out)
        print(f"{source}: {summary(result.data)}", file=out)
    if args.output:
        _write_atomically(Path(args.output), result.yaml_text)
        print(f"wrote {args.output}: {len(result.data['procedures'])} procedures", file=sys.stderr)
    else:
        sys.stdout.write(result.yaml_text)
    return 0


def summary(data: dict[str, Any]) -> str:
    """One line: how many steps were gated and watched, parameters declared, windows set."""
    steps = [
        s for p in data["procedures"] for k in ("prechecks", "steps", "verification") for s in p.get(k, [])
    ]
    gated = sum(1 for s in steps if s.get("destructive") or s.get("confirm"))
    watched = sum(1 for s in steps if s.get("kind") == "watch")
    params = len(data.get("parameters", []))
    windows = sum(1 for p in data["procedures"] if p.get("recovery_window"))
    return (
        f"{len(data['procedures'])} procedures, {len(steps)} steps: {gated} gated, {watched} watched, "
        f"{params} parameters, {windows} recovery windows"
    )


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all, by the rules of ``core.output_files``."""
    from ..core.output_files import write_output

    write_output(path, text, what="the runbook")
