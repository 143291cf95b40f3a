"""Report: the markdown and svg report of a session with 1,000,000 output lines.

The journal is written directly in the documented format (``_journal_fixture.py``).
Each figure is a fresh process, so its peak RSS is its own:

* ``runbook-tui report PATH --format markdown -o FILE`` and ``--format svg`` (the command,
  end to end, as an incident commander runs it);
* in-process ``build_report`` + ``markdown.render`` / ``svg.render`` with tracemalloc's
  peak, to say where time and memory go.

The reference in the same run is the least any reader of that JSONL pays: Python
reading every line and ``json.loads``-ing it (and, as a floor, reading the lines only).

    /work/venv/bin/python bench/bench_report.py [--lines 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import isolated_env, median, peak_rss_mb, print_machine, run_child
from _journal_fixture import write_journal


def child(kind: str, path: Path, out: Path) -> dict[str, Any]:
    if kind in ("cli-markdown", "cli-svg"):
        from runbook_tui.cli import main

        fmt = kind.removeprefix("cli-")
        started = time.perf_counter()
        with open(os.devnull, "w") as sink:
            saved, sys.stderr = sys.stderr, sink
            try:
                code = main(["report", str(path), "--format", fmt, "-o", str(out)])
            finally:
                sys.stderr = saved
        return {
            "seconds": time.perf_counter() - started,
            "peak_rss": peak_rss_mb(),
            "code": code,
            "bytes": out.stat().st_size,
        }
    if kind in ("read", "json"):
        started = time.perf_counter()
        count = 0
        with open(path, "rb") as handle:
            if kind == "read":
                for _ in handle:
                    count += 1
            else:
                for line in handle:
                    json.loads(line)
                    count += 1
        return {"seconds": time.perf_counter() - started, "peak_rss": peak_rss_mb(), "count": count}
    # "traced": in-process parts with tracemalloc
    from runbook_tui.core.report import markdown, svg
    from runbook_tui.core.report.runbook_context import context_for
    from runbook_tui.core.report.timeline import build_report

    tracemalloc.start()
    started = time.perf_counter()
    report = build_report(path)
    built = time.perf_counter()
    md = markdown.render(report, context_for(report))
    rendered = time.perf_counter()
    picture = svg.render(report)
    ended = time.perf_counter()
    return {
        "build_s": built - started,
        "markdown_s": rendered - built,
        "svg_s": ended - rendered,
        "traced": tracemalloc.get_traced_memory()[1] / 2**20,
        "markdown_bytes": len(md),
        "svg_bytes": len(picture),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child")
    parser.add_argument("--path")
    parser.add_argument("--out")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, Path(args.path), Path(args.out or os.devnull))))
        return
    print_machine()
    me = str(Path(__file__).resolve())
    with tempfile.TemporaryDirectory(prefix="bench-report-") as name:
        tmp = Path(name)
        env = isolated_env(tmp)
        path = write_journal(tmp, args.lines)
        size = path.stat().st_size / 2**20
        print(
            f"report: journal of {args.lines:,} output lines ({size:.0f} MiB), "
            f"median of {args.runs} fresh processes"
        )
        results: dict[str, list[dict[str, Any]]] = {}
        for _ in range(args.runs):
            for kind in ("cli-markdown", "cli-svg", "json", "read"):
                out = tmp / f"out-{kind}"
                results.setdefault(kind, []).append(
                    run_child([me, "--child", kind, "--path", str(path), "--out", str(out)], env)
                )
        traced = run_child([me, "--child", "traced", "--path", str(path)], env)
    s = {k: {f: median([r[f] for r in v]) for f in ("seconds", "peak_rss")} for k, v in results.items()}
    ref = s["json"]["seconds"]
    for kind, label in (
        ("cli-markdown", "report --format markdown"),
        ("cli-svg", "report --format svg"),
        ("json", "reference: json.loads every line"),
        ("read", "floor: read every line"),
    ):
        extra = ""
        if kind.startswith("cli"):
            codes = {r["code"] for r in results[kind]}
            extra = f"  {results[kind][0]['bytes'] / 1024:.0f} KiB written, exit {sorted(codes)}"
            extra += f"  = {s[kind]['seconds'] / ref:.2f}x the reference"
        print(f"  {label:34s} {s[kind]['seconds']:6.2f} s  peak RSS {s[kind]['peak_rss']:6.1f} MB{extra}")
    print(
        f"  in process: build_report {traced['build_s']:.2f} s, markdown {traced['markdown_s']:.3f} s, "
        f"svg {traced['svg_s']:.3f} s; tracemalloc peak {traced['traced'] * 1024:.0f} KiB"
        " (traced run is slower)"
    )


if __name__ == "__main__":
    main()
