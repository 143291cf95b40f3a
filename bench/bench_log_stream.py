"""Log streaming: a step printing 1,000,000 lines, through engine and journal to the log pane.

``ours``: a tiny YAML runbook whose one shell step is ``seq 1000000``, opened in the real
app (``RunbookApp``, headless) straight on its procedure screen; the step is run with the
screen's own ``r`` action, so every line goes subprocess -> shell step -> engine ->
journal (fsynced JSONL) -> session state -> the screen's 50 ms flush -> ``LogView``.
Timed from the action to the moment the pane has received the last line.

``engine``: the same step through ``Session`` + ``Journal`` with no UI (where time goes).

``reference``: Textual's ``Log`` widget (``max_lines`` like our pane) in a headless app,
fed the same 1,000,000 lines directly in batches of 1,000, yielding to the loop between.

Each runs in a fresh process so its peak RSS (``ru_maxrss``) is its own. A timer inside
the loop ticks every 10 ms and records the worst lateness: the longest stall.
Goals: at least 0.5x the reference's lines per second, peak RSS under 150 MB, no stall
over 50 ms. ``--tracemalloc`` adds a (slower, untimed) run reporting Python's peak
allocation for ``ours``.

    /work/venv/bin/python bench/bench_log_stream.py [--lines 1000000] [--runs 1] [--gc-threshold N]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    count_lines,
    current_rss_mb,
    isolated_env,
    median,
    peak_rss_mb,
    print_machine,
    run_child,
    verdict,
)

SIZE = (120, 40)
TICK = 0.01

RUNBOOK = """\
runbook: 1
id: bench-stream
title: Benchmark stream
procedures:
  - id: stream
    title: Print many lines
    steps:
      - id: seq
        title: Print {lines} lines
        kind: shell
        command: seq {lines}
"""


class LagMonitor:
    """A periodic timer in the event loop; its worst lateness is the longest stall.

    It also times the cyclic GC's full (generation 2) collections: in a flood they
    are the stalls nobody's code shows in a profile.
    """

    def __init__(self) -> None:
        self.worst = 0.0
        self.over = 0  # ticks later than 50 ms
        self.ticks = 0
        self.peak_rss = 0.0
        self.full_gcs = 0
        self.worst_gc = 0.0
        self._gc_started = 0.0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        gc.callbacks.append(self._on_gc)
        self._task = asyncio.get_running_loop().create_task(self._run())

    def _on_gc(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._gc_started = time.perf_counter()
            return
        self.full_gcs += 1
        self.worst_gc = max(self.worst_gc, time.perf_counter() - self._gc_started)

    async def _run(self) -> None:
        while True:
            due = time.perf_counter() + TICK
            await asyncio.sleep(TICK)
            late = time.perf_counter() - due
            self.worst = max(self.worst, late)
            self.over += late > 0.05
            self.ticks += 1
            if self.ticks % 10 == 0:
                self.peak_rss = max(self.peak_rss, current_rss_mb())

    def stop(self) -> None:
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()

    def figures(self) -> dict[str, Any]:
        return {
            "worst_stall": self.worst,
            "stalls": self.over,
            "full_gcs": self.full_gcs,
            "worst_gc": self.worst_gc,
        }


def write_runbook(folder: Path, lines: int) -> Path:
    path = folder / "bench-stream.yaml"
    path.write_text(RUNBOOK.format(lines=lines), encoding="utf-8")
    return path


async def _until(check: Callable[[], bool], limit: float = 600.0) -> None:
    deadline = time.perf_counter() + limit
    while not check():
        if time.perf_counter() > deadline:
            raise TimeoutError("the benchmark did not finish in time")
        await asyncio.sleep(0.005)


# --- the children -------------------------------------------------------------------


async def child_ours(folder: Path, lines: int) -> dict[str, Any]:
    from runbook_tui.core.events import StepStatus
    from runbook_tui.core.loader import load_runbook
    from runbook_tui.ui.app import AppOptions, RunbookApp
    from runbook_tui.ui.screens.procedure import ProcedureScreen
    from runbook_tui.ui.widgets.log_view import LogView

    runbook = load_runbook(write_runbook(folder, lines))
    # freeze_gc as `runbook-tui` itself runs the app (commands/app.py)
    options = AppOptions(
        runbook=runbook, procedure="stream", workdir=folder, probe_signals=False, freeze_gc=True
    )
    app = RunbookApp(options)
    async with app.run_test(headless=True, size=SIZE) as pilot:
        await _until(lambda: isinstance(app.screen, ProcedureScreen))
        screen = app.screen
        assert isinstance(screen, ProcedureScreen)
        await _until(lambda: screen.state.started_at is not None)
        log = screen.query_one("#log", LogView)
        await pilot.pause()
        rss_before = current_rss_mb()
        monitor = LagMonitor()
        monitor.start()
        started = time.perf_counter()
        screen.action_run_step()
        await _until(lambda: log.dropped + log.line_count >= lines)
        elapsed = time.perf_counter() - started
        await _until(lambda: screen.state.step("seq").status.is_final)
        await pilot.pause()
        monitor.stop()
        status = screen.state.step("seq").status
        journal = screen.session.journal_path
        peak = max(peak_rss_mb(), monitor.peak_rss)  # before anything the benchmark itself reads
        journaled = count_lines(journal) if journal else 0
        last = log.lines[-1] if log.line_count else ""
    return {
        "elapsed": elapsed,
        "lines_per_s": lines / elapsed,
        **monitor.figures(),
        "peak_rss": peak,
        "rss_before": rss_before,
        "status": str(status),
        "ok": status is StepStatus.PASSED and last == str(lines),
        "journal_lines": journaled,
    }


async def child_engine(folder: Path, lines: int) -> dict[str, Any]:
    from runbook_tui.core.asker import YesAsker
    from runbook_tui.core.engine import Session
    from runbook_tui.core.events import StepStatus
    from runbook_tui.core.journal import Journal, new_session_id
    from runbook_tui.core.loader import load_runbook

    runbook = load_runbook(write_runbook(folder, lines))
    journal = Journal.create(new_session_id(runbook.id), dir=folder / "sessions")
    session = Session(runbook, "stream", workdir=folder, ask=YesAsker(), journal=journal)
    await session.start()
    monitor = LagMonitor()
    monitor.start()
    started = time.perf_counter()
    status = await session.run_step("seq")
    elapsed = time.perf_counter() - started
    monitor.stop()
    await session.finish()
    journal.close()
    return {
        "elapsed": elapsed,
        "lines_per_s": lines / elapsed,
        **monitor.figures(),
        "peak_rss": max(peak_rss_mb(), monitor.peak_rss),
        "ok": status is StepStatus.PASSED and session.state.step("seq").output_lines == lines,
    }


async def child_reference(lines: int) -> dict[str, Any]:
    from textual.app import App, ComposeResult
    from textual.widgets import Log

    class LogApp(App[None]):
        def compose(self) -> ComposeResult:
            yield Log(max_lines=20_000, id="log")

    data = [str(i) for i in range(1, lines + 1)]
    app = LogApp()
    async with app.run_test(headless=True, size=SIZE) as pilot:
        log = app.query_one(Log)
        await pilot.pause()
        monitor = LagMonitor()
        monitor.start()
        started = time.perf_counter()
        for start in range(0, lines, 1000):
            log.write_lines(data[start : start + 1000])
            await asyncio.sleep(0)
        await pilot.pause()
        elapsed = time.perf_counter() - started
        monitor.stop()
        ok = log.lines[-1] == str(lines)
    return {
        "elapsed": elapsed,
        "lines_per_s": lines / elapsed,
        **monitor.figures(),
        "peak_rss": max(peak_rss_mb(), monitor.peak_rss),
        "ok": ok,
    }


def child(kind: str, lines: int, traced: bool) -> dict[str, Any]:
    if traced:
        tracemalloc.start()
    with tempfile.TemporaryDirectory(prefix="bench-stream-") as name:
        folder = Path(name)
        if kind == "ours":
            result = asyncio.run(child_ours(folder, lines))
        elif kind == "engine":
            result = asyncio.run(child_engine(folder, lines))
        else:
            result = asyncio.run(child_reference(lines))
    if traced:
        result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1024 / 1024
    return result


# --- the parent ---------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1, help="fresh processes per side (median)")
    parser.add_argument("--tracemalloc", action="store_true", help="add a traced (untimed) run of ours")
    parser.add_argument("--child", choices=["ours", "engine", "reference"])
    parser.add_argument("--traced", action="store_true")
    parser.add_argument(
        "--gc-threshold",
        type=int,
        default=0,
        help="experiment: gc.set_threshold(N, 10, 10) in every child (what an app-level setting would do)",
    )
    args = parser.parse_args()
    if args.child:
        if args.gc_threshold:
            gc.set_threshold(args.gc_threshold, 10, 10)
        print(json.dumps(child(args.child, args.lines, args.traced)))
        return
    print_machine()
    print(f"log streaming: {args.lines:,} lines, median of {args.runs} fresh process(es) per side")
    if args.gc_threshold:
        print(f"  (experiment: gc.set_threshold({args.gc_threshold}, 10, 10) in every child)")
    me = str(Path(__file__).resolve())
    results: dict[str, list[dict[str, Any]]] = {"ours": [], "engine": [], "reference": []}
    with tempfile.TemporaryDirectory(prefix="bench-stream-env-") as name:
        env = isolated_env(Path(name))
        for _ in range(args.runs):
            for kind in results:
                argv = [me, "--child", kind, "--lines", str(args.lines)]
                results[kind].append(run_child([*argv, "--gc-threshold", str(args.gc_threshold)], env))
        traced = None
        if args.tracemalloc:
            traced = run_child([me, "--child", "ours", "--lines", str(args.lines), "--traced"], env)
    summary = {
        k: {f: median([r[f] for r in v]) for f in ("lines_per_s", "elapsed", "worst_stall", "peak_rss")}
        for k, v in results.items()
    }
    for kind, label in (
        ("ours", "runbook-tui app (engine+journal+pane)"),
        ("engine", "engine+journal, no UI"),
        ("reference", "Textual Log fed directly"),
    ):
        s = summary[kind]
        ok = all(r["ok"] for r in results[kind])
        print(
            f"  {label:40s} {s['lines_per_s']:>10,.0f} lines/s  {s['elapsed']:6.2f} s  "
            f"worst stall {s['worst_stall'] * 1000:6.1f} ms  peak RSS {s['peak_rss']:6.1f} MB"
            + ("" if ok else "  (INCOMPLETE: not every line arrived)")
        )
    ratio = summary["ours"]["lines_per_s"] / summary["reference"]["lines_per_s"]
    print(f"  throughput ratio {ratio:.2f}x of Log (goal >= 0.5x) {verdict(ratio >= 0.5)}")
    rss = summary["ours"]["peak_rss"]
    print(f"  peak RSS {rss:.1f} MB (goal < 150 MB) {verdict(rss < 150)}")
    stall = summary["ours"]["worst_stall"] * 1000
    count = max(r["stalls"] for r in results["ours"])
    print(
        f"  worst event-loop stall {stall:.1f} ms, {count} ticks over 50 ms "
        f"(goal <= 50 ms) {verdict(stall <= 50)}"
    )
    for kind in results:
        gcs = max(r["full_gcs"] for r in results[kind])
        worst_gc = max(r["worst_gc"] for r in results[kind]) * 1000
        print(f"  {kind}: up to {gcs} full GC collections, the longest {worst_gc:.0f} ms")
    if traced is not None:
        print(f"  tracemalloc peak (separate, slower run): {traced['traced_peak_mb']:.1f} MB")


if __name__ == "__main__":
    main()
