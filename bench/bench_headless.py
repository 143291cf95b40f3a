"""Headless run: ``runbook-tui run RUNBOOK PROC --plain --yes`` of a ``seq 1000000`` step.

Against the same output produced without us: ``seq 1000000 > /dev/null`` (the command
alone) and ``cat`` of the same 1,000,000 lines to /dev/null (moving the bytes). Every
side is a fresh process with its output sent to /dev/null; the figure is lines per
second and the ratio. The journal is written (fsynced) into a temporary data folder,
as a real run does.

    /work/venv/bin/python bench/bench_headless.py [--lines 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import count_lines, isolated_env, median, print_machine

RUNBOOK = """\
runbook: 1
id: bench-headless
title: Benchmark headless run
procedures:
  - id: stream
    title: Print many lines
    steps:
      - id: seq
        title: Print {lines} lines
        kind: shell
        command: seq {lines}
"""


def timed(argv: list[str], env: dict[str, str], stdin: Path | None = None) -> tuple[float, float, int]:
    """Wall seconds, the child's peak RSS in MB, and its exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    with open(os.devnull, "wb") as sink, open(stdin or os.devnull, "rb") as source:
        started = time.perf_counter()
        code = subprocess.run(argv, stdin=source, stdout=sink, stderr=sink, env=env, check=False).returncode
        elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(after, before) / 1024, code


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print_machine()
    print(f"headless run: {args.lines:,} lines to /dev/null, median of {args.runs} fresh processes")
    with tempfile.TemporaryDirectory(prefix="bench-headless-") as name:
        tmp = Path(name)
        env = isolated_env(tmp)
        runbook = tmp / "bench-headless.yaml"
        runbook.write_text(RUNBOOK.format(lines=args.lines), encoding="utf-8")
        data = tmp / "lines.txt"
        with open(data, "wb") as handle:
            subprocess.run(["seq", str(args.lines)], stdout=handle, check=True)
        cli = [sys.executable, "-m", "runbook_tui", "run", str(runbook), "stream", "--plain", "--yes"]
        ours, seq, cat, codes = [], [], [], set()
        rss = 0.0
        timed(cli, env)  # warm the bytecode cache
        for _ in range(args.runs):
            elapsed, peak, code = timed(cli, env)
            ours.append(elapsed)
            codes.add(code)
            seq.append(timed(["seq", str(args.lines)], env)[0])
            cat.append(timed(["cat"], env, stdin=data)[0])
            rss = max(rss, peak)
        sessions = list((tmp / "data").rglob("*.jsonl"))
        journaled = count_lines(max(sessions, key=lambda p: p.stat().st_mtime)) if sessions else 0
    lines = args.lines
    o, s, c = median(ours), median(seq), median(cat)
    print(
        f"  run --plain --yes      {lines / o:>12,.0f} lines/s  {o:7.3f} s  exit {sorted(codes)}  "
        f"peak RSS {rss:.1f} MB  journal {journaled:,} lines"
    )
    print(f"  seq > /dev/null        {lines / s:>12,.0f} lines/s  {s:7.3f} s")
    print(f"  cat lines > /dev/null  {lines / c:>12,.0f} lines/s  {c:7.3f} s")
    print(
        f"  ratio vs seq: {s / o:.4f}x ({o / s:.0f} times slower); "
        f"vs cat: {c / o:.4f}x ({o / c:.0f} times slower)"
    )


if __name__ == "__main__":
    main()
