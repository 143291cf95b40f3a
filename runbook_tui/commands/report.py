"""``runbook-tui report SESSION --format markdown|json|svg [-o FILE]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..core.errors import RunbookTuiError
from ..core.output_files import write_output
from ..core.report import json_report, markdown, svg
from ..core.report.context import EMPTY, ReportContext
from ..core.report.runbook_context import context_for
from ..core.report.timeline import Report, build_report
from ..core.sessions import find_session


class ReportWriteError(RunbookTuiError):
    exit_code = 2


def run(args: argparse.Namespace) -> int:
    """Write the report of one session to standard output or, atomically, to ``-o FILE``."""
    path = find_session(args.session)
    report = build_report(path)
    context = context_for(report) if args.format != "svg" else EMPTY
    chart = chart_path(Path(args.output)) if args.output and args.format == "markdown" else None
    if chart is not None:
        # The chart beside the markdown, linked from it by its name (issue 17).
        write_atomically(chart, svg.render(report))
        print(f"wrote {chart}", file=sys.stderr)
        text = markdown.render(report, context, chart=chart.name)
    else:
        text = render(report, args.format, context)
    if args.output:
        write_atomically(Path(args.output), text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if report.torn_tail:
        print(
            f"runbook-tui: note: {path}: the journal's last line was torn (a crash mid-write); "
            "the report covers everything before it",
            file=sys.stderr,
        )
    return 0


def chart_path(output: Path) -> Path:
    """``report.md`` -> ``report.timeline.svg`` (any other name: ``NAME.timeline.svg``)."""
    base = output.with_suffix("") if output.suffix.lower() in (".md", ".markdown") else output
    return base.with_name(base.name + ".timeline.svg")


def render(report: Report, fmt: str, context: ReportContext = EMPTY) -> str:
    """The report in ``fmt`` (markdown, json or svg)."""
    if fmt == "json":
        return json_report.render(report, context)
    if fmt == "svg":
        return svg.render(report)
    return markdown.render(report, context)


def write_atomically(target: Path, text: str) -> None:
    """Write ``text`` to ``target`` whole or not at all, by the rules of ``core.output_files``."""
    write_output(target, text, what="the report")
