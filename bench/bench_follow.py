"""Following a 1,000,000-line step: the follower's pane against the runner's own pane.

``live``: a real ``runbook-tui run --plain`` (a fresh process) runs a step that is
``seq 1000000``; this process follows it with the real app (``RunbookApp`` headless,
opened as ``runbook-tui follow`` opens it: ``commands.app.follow_options``). Timed from
the moment the follower sees the step start to the moment its log pane has received the
last line. Its throughput is bounded by the runner's: it cannot show lines before they
are written (the journal batches output for up to 200 ms).

``replay``: the same follower on the finished 1M-line journal: how fast it catches up
with a session that is far ahead (its own throughput, with nothing to wait for).

``runner``: the runner's own pane (``bench_log_stream.py``'s ``ours``: the app running
the step itself, engine -> journal -> pane), for comparison.

A timer in the follower's event loop ticks every 10 ms; its worst lateness is the
longest stall (goal: none over 50 ms). Each side runs in a fresh process.

    /work/venv/bin/python bench/bench_follow.py [--lines 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PYTHON, ROOT, isolated_env, peak_rss_mb, print_machine, run_child, verdict
from bench_log_stream import SIZE, LagMonitor, _until, write_runbook


def _start_runner(folder: Path, lines: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [PYTHON, "-m", "runbook_tui", "run", str(write_runbook(folder, lines)), "stream", "--plain"]
    return subprocess.Popen(
        [*argv, "--yes", "--workdir", str(folder)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=env,
    )


async def _follow(lines: int, *, live: bool, folder: Path) -> dict[str, Any]:
    from runbook_tui.commands.app import follow_options
    from runbook_tui.core.events import StepStatus
    from runbook_tui.core.sessions import list_sessions
    from runbook_tui.ui.app import RunbookApp
    from runbook_tui.ui.screens.procedure import ProcedureScreen
    from runbook_tui.ui.widgets.log_view import LogView

    runner = _start_runner(folder, lines)
    if not live:
        runner.wait(timeout=600)

    def ours() -> Any:
        # The runner benchmark leaves its own session open in the same data folder: not that one.
        return next((s for s in list_sessions() if s.runbook_path.startswith(str(folder))), None)

    await _until(lambda: ours() is not None, 60)
    summary = ours()
    args = argparse.Namespace(runbooks=[], freeze_gc=True, refresh=None, low_bandwidth=None)
    app = RunbookApp(follow_options(summary, args))
    try:
        async with app.run_test(headless=True, size=SIZE) as pilot:
            monitor = LagMonitor()
            monitor.start()
            opened = time.perf_counter()
            await _until(lambda: isinstance(app.screen, ProcedureScreen))
            screen = app.screen
            assert isinstance(screen, ProcedureScreen)
            await _until(lambda: screen.state.step("seq").status is not StepStatus.PENDING)
            started = time.perf_counter() if live else opened
            log = screen.query_one("#log", LogView)
            await _until(lambda: log.dropped + log.line_count >= lines, 600)
            elapsed = time.perf_counter() - started
            await pilot.pause()
            monitor.stop()
            ok = screen.state.step("seq").output_lines == lines and log.lines[-1] == str(lines)
    finally:
        runner.wait(timeout=600)
    return {
        "elapsed": elapsed,
        "lines_per_s": lines / elapsed,
        **monitor.figures(),
        "peak_rss": max(peak_rss_mb(), monitor.peak_rss),
        "ok": ok,
    }


def child(kind: str, lines: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-follow-") as name:
        return asyncio.run(_follow(lines, live=kind == "live", folder=Path(name)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--child", choices=["live", "replay"])
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.lines)))
        return
    print_machine()
    print(f"follow: a {args.lines:,}-line step, one fresh process per side")
    me = str(Path(__file__).resolve())
    stream = str(Path(__file__).resolve().with_name("bench_log_stream.py"))
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-follow-env-") as name:
        env = isolated_env(Path(name))
        env["PYTHONPATH"] = str(ROOT)
        results["runner"] = run_child([stream, "--child", "ours", "--lines", str(args.lines)], env, 900)
        for kind in ("live", "replay"):
            results[kind] = run_child([me, "--child", kind, "--lines", str(args.lines)], env, 900)
    for kind, label in (
        ("runner", "the runner's own pane (app runs the step)"),
        ("live", "follower of the running session"),
        ("replay", "follower catching up (session finished)"),
    ):
        r = results[kind]
        print(
            f"  {label:44s} {r['lines_per_s']:>10,.0f} lines/s  {r['elapsed']:6.2f} s  "
            f"worst stall {r['worst_stall'] * 1000:6.1f} ms  peak RSS {r['peak_rss']:6.1f} MB"
            + ("" if r["ok"] else "  (INCOMPLETE: not every line arrived)")
        )
    ratio = results["live"]["lines_per_s"] / results["runner"]["lines_per_s"]
    print(f"  live follower at {ratio:.2f}x of the runner's pane")
    for kind in ("live", "replay"):
        stall = results[kind]["worst_stall"] * 1000
        print(f"  {kind}: worst event-loop stall {stall:.1f} ms (goal <= 50 ms) {verdict(stall <= 50)}")


if __name__ == "__main__":
    main()
