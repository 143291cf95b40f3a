"""``runbook-tui import FILE.md [-o OUT] [--report]``: Markdown runbook -> YAML runbook."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

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
        for line in result.report:
            print(f"{source}:{line}", file=sys.stderr if not args.output else sys.stdout)
    if args.output:
        _write_atomically(Path(args.output), result.yaml_text)
        print(f"wrote {args.output}: {len(result.data['procedures'])} procedures", file=sys.stderr)
    else:
        sys.stdout.write(result.yaml_text)
    return 0


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all, by the rules of ``core.output_files``."""
    from ..core.output_files import write_output

    write_output(path, text, what="the runbook")
