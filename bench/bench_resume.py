"""Resume: loading the journal of a session with 1,000,000 output lines.

What ``runbook-tui resume`` (``Session.resume``) does with the journal before it can
continue: ``core.journal.fold_file`` (the session state, folded as the file streams)
and ``Journal.open_existing`` (reopen it to append, checking its last line). Beside it,
the way resume used to read it, ``core.journal.load`` (decode every event) then
``core.journal.fold.fold``. The journal is written directly in the documented format
(``_journal_fixture.py``). Each side is a fresh process for its own peak RSS. The
reference in the same run is Python reading every line and ``json.loads``-ing it: the
least any loader of that JSONL pays.

    /work/venv/bin/python bench/bench_resume.py [--lines 1000000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import isolated_env, median, peak_rss_mb, print_machine, run_child
from _journal_fixture import write_journal


def child(kind: str, path: Path) -> dict[str, Any]:
    baseline = peak_rss_mb()
    if kind == "json":
        started = time.perf_counter()
        with open(path, "rb") as handle:
            count = sum(1 for line in handle if json.loads(line))
        return {
            "seconds": time.perf_counter() - started,
            "peak_rss": peak_rss_mb(),
            "base": baseline,
            "n": count,
        }
    from runbook_tui.core import journal
    from runbook_tui.core.journal import fold as state

    if kind == "ours":  # what resume does now: fold as it streams, then reopen to append
        return _in_two_parts(
            lambda: journal.fold_file(path).state,
            lambda _: journal.Journal.open_existing(path).close(),
            baseline,
        )
    # What resume did before: every event decoded, then folded.
    return _in_two_parts(lambda: journal.load(path).events, lambda events: state.fold(events), baseline)


def _in_two_parts(first: Any, second: Any, baseline: float) -> dict[str, Any]:
    """Time ``first()`` then ``second(its result)``; ``n``: output lines of the folded state."""
    started = time.perf_counter()
    value = first()
    middle = time.perf_counter()
    result = second(value)
    ended = time.perf_counter()
    folded = result if result is not None else value
    return {
        "seconds": ended - started,
        "load_s": middle - started,  # fold_file, or load
        "fold_s": ended - middle,  # open_existing, or fold
        "peak_rss": peak_rss_mb(),
        "base": baseline,
        "n": folded.step("seq").output_lines,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=["ours", "old", "json"])
    parser.add_argument("--path")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, Path(args.path))))
        return
    print_machine()
    me = str(Path(__file__).resolve())
    with tempfile.TemporaryDirectory(prefix="bench-resume-") as name:
        tmp = Path(name)
        env = isolated_env(tmp)
        path = write_journal(tmp, args.lines)
        size = path.stat().st_size / 2**20
        print(
            f"resume: journal of {args.lines:,} output lines ({size:.0f} MiB), "
            f"median of {args.runs} fresh processes"
        )
        ours, old, ref = [], [], []
        for _ in range(args.runs):
            ours.append(run_child([me, "--child", "ours", "--path", str(path)], env))
            old.append(run_child([me, "--child", "old", "--path", str(path)], env))
            ref.append(run_child([me, "--child", "json", "--path", str(path)], env))
    keys = ("seconds", "load_s", "fold_s", "peak_rss", "base")
    o = {k: median([r[k] for r in ours]) for k in keys}
    b = {k: median([r[k] for r in old]) for k in keys}
    r = {k: median([x[k] for x in ref]) for k in ("seconds", "peak_rss", "base")}
    print(
        f"  fold_file + open_existing  {o['seconds']:6.2f} s "
        f"(fold_file {o['load_s']:.2f} s, open_existing {o['fold_s'] * 1000:.1f} ms)  "
        f"peak RSS {o['peak_rss']:.0f} MB (+{o['peak_rss'] - o['base']:.0f}), {ours[0]['n']:,} lines counted"
    )
    print(
        f"  before: load + state.fold  {b['seconds']:6.2f} s "
        f"(load {b['load_s']:.2f} s, fold {b['fold_s']:.2f} s)  "
        f"peak RSS {b['peak_rss']:.0f} MB (+{b['peak_rss'] - b['base']:.0f}), {old[0]['n']:,} lines counted"
    )
    print(f"  reference: json.loads     {r['seconds']:6.2f} s  peak RSS {r['peak_rss']:.0f} MB")
    print(
        f"  ratio: {o['seconds'] / r['seconds']:.2f}x the reference's time "
        f"(before: {b['seconds'] / r['seconds']:.2f}x)"
    )


if __name__ == "__main__":
    main()
