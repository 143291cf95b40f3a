"""Start-up to first frame: runbook-tui's library against a bare Textual app with the same widgets.

Each measurement is a fresh ``python`` process, timed from just before the spawn
(so interpreter start and every import count) to the moment a frame of the first
screen has been composed and rendered to terminal segments, headless at 100x30.

Three moments are recorded for runbook-tui:

* ``first frame``: the library screen's first frame (the list may still be loading,
  since the app reads runbooks in a worker thread);
* ``first rows``: the first frame in which the list shows a screenful (10 runbooks);
* ``ready``: the first frame in which the library list shows the runbooks.

runbook-tui keeps an index of what the list shows in its cache folder
(``RUNBOOK_TUI_CACHE_DIR``). Each library is measured twice: with a warm index (every
start after the first) and cold (a new, empty cache folder per run: the first start
ever, or after an upgrade).

The reference app composes the same widgets (Static header, Input filter, OptionList
in a bordered box, details Static in a VerticalScroll, Footer) and fills the list
with the same number of titles given to it up front, so its first frame is also its
ready frame. The goals apply to ``ready``: at most 1.15x with the bundled runbooks,
at most 1.3x with 500 generated runbooks in a ``--runbooks`` folder.

    /work/venv/bin/python bench/bench_startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    BENCH,
    ROOT,
    fmt_ratio,
    isolated_env,
    median,
    print_machine,
    run_child,
    since_spawn,
    verdict,
)

SIZE = (100, 30)
SCREENFUL = 10  # runbooks the list shows at 100x30 (two lines each)
_ID = re.compile(r"^id: .*$", re.M)
_TITLE = re.compile(r"^title: (.*)$", re.M)


# --- the library of 500 -------------------------------------------------------------


def write_library(folder: Path, count: int) -> list[str]:
    """``count`` runbooks made from the bundled ones with new ids; returns their titles."""
    bundled = sorted((ROOT / "runbooks").glob("*.yaml"))
    texts = [p.read_text(encoding="utf-8") for p in bundled]
    titles = []
    for i in range(count):
        text = texts[i % len(texts)]
        title = f"{_TITLE.search(text).group(1)} #{i}"  # type: ignore[union-attr]
        text = _ID.sub(f"id: generated-{i:03d}", text, count=1)
        text = _TITLE.sub(f"title: {title}", text, count=1)
        path = folder / f"generated-{i:03d}.yaml"
        path.write_text(text, encoding="utf-8")
        settled = time.time() - 3600  # the index does not record files written in the last 2 s
        os.utime(path, (settled, settled))
        titles.append(title)
    return titles


# --- the children -------------------------------------------------------------------


def _hook_frames(expected: int, result: dict[str, float]) -> None:
    """Record the first frame of a non-default screen, the first with a screenful, the first 'ready' one."""
    from textual.app import App

    original = App._display

    def display(self: App[Any], screen: Any, renderable: Any) -> None:
        original(self, screen, renderable)
        if renderable is None or self._batch_count or screen is not self.screen:
            return
        if type(screen).__name__ == "Screen":  # the app's default screen, before ours
            return
        renderable.render_segments(self.console)  # what a terminal driver would write
        now = since_spawn()
        cpu = time.process_time()  # this process's CPU (all threads), less hurt by a busy machine
        result.setdefault("first_frame", now)
        result.setdefault("first_frame_cpu", cpu)
        count = _option_count(screen)
        if "first_rows" not in result and count >= min(expected, SCREENFUL):
            result["first_rows"] = now
        if "ready" not in result and count >= expected:
            result["ready"] = now
            result["ready_cpu"] = cpu
            self.exit()

    App._display = display  # type: ignore[method-assign]


def _option_count(screen: Any) -> int:
    from textual.widgets import OptionList

    try:
        return screen.query_one("#library-list", OptionList).option_count
    except Exception:
        return 0


def child_ours(runbooks: str | None) -> dict[str, float]:
    result: dict[str, float] = {}
    from runbook_tui.gc_tuning import tune_gc

    tune_gc()  # as runbook_tui.cli.main does before a command's imports
    from runbook_tui.ui.app import AppOptions, RunbookApp

    result["imported"] = since_spawn()
    expected = int(sys.argv[sys.argv.index("--expect") + 1])
    _hook_frames(expected, result)
    dirs = (Path(runbooks),) if runbooks else ()
    app = RunbookApp(AppOptions(runbook_dirs=dirs, probe_signals=False, freeze_gc=True))  # as the command
    app.run(headless=True, size=SIZE)
    return result


def child_bare(titles_file: str) -> dict[str, float]:
    result: dict[str, float] = {}
    from textual.app import App, ComposeResult
    from textual.containers import Horizontal, Vertical, VerticalScroll
    from textual.screen import Screen
    from textual.widgets import Footer, Input, OptionList, Static
    from textual.widgets.option_list import Option

    result["imported"] = since_spawn()
    titles = json.loads(Path(titles_file).read_text())

    class BareLibrary(Screen[None]):
        def compose(self) -> ComposeResult:
            yield Static(id="too-small")
            yield Static("runbook-tui · library", id="header")
            with Horizontal(id="library-filter-row"):
                yield Static("Filter", id="library-filter-label")
                yield Input(placeholder="type to filter", id="library-filter")
            with Horizontal(id="library-body"):
                with Vertical(id="library-list-box"):
                    yield OptionList(id="library-list")
                with VerticalScroll(id="library-details-box"):
                    yield Static(id="library-details")
            yield Footer()

        def on_mount(self) -> None:
            options = self.query_one("#library-list", OptionList)
            options.add_options([Option(t, id=f"o{i}") for i, t in enumerate(titles)])
            options.highlighted = 0
            self.query_one("#library-details", Static).update(titles[0])
            self.query_one("#library-filter", Input).focus()

    class BareApp(App[None]):
        CSS_PATH = str(BENCH / "bare_library.tcss")

        def on_mount(self) -> None:
            self.push_screen(BareLibrary())

    _hook_frames(len(titles), result)
    BareApp().run(headless=True, size=SIZE)
    return result


# --- the parent ---------------------------------------------------------------------


def measure(
    label: str, runs: int, tmp: Path, runbooks: Path | None, titles: list[str], *, cold: bool
) -> dict[str, float]:
    env = isolated_env(tmp)
    env["RUNBOOK_TUI_CACHE_DIR"] = str(tmp / f"cache-{label}")  # warm: the warm-up run fills it
    fresh = iter(range(10**6))

    def ours_env() -> dict[str, str]:
        if not cold:
            return env
        return {**env, "RUNBOOK_TUI_CACHE_DIR": str(tmp / f"cache-{label}-cold-{next(fresh)}")}

    titles_file = tmp / f"titles-{label}.json"
    titles_file.write_text(json.dumps(titles))
    me = str(Path(__file__).resolve())
    ours_args = [me, "--child", "ours", "--expect", str(len(titles))]
    if runbooks is not None:
        ours_args += ["--runbooks", str(runbooks)]
    bare_args = [me, "--child", "bare", "--titles", str(titles_file)]
    run_child(ours_args, ours_env())  # warm the bytecode caches (and the warm index) once, for both
    run_child(bare_args, env)
    ours: list[dict[str, float]] = []
    bare: list[dict[str, float]] = []
    for _ in range(runs):  # interleaved, so drift on the machine hits both alike
        ours.append(run_child(ours_args, ours_env()))
        bare.append(run_child(bare_args, env))
    m = {
        "ours_imported": median([r["imported"] for r in ours]),
        "ours_first": median([r["first_frame"] for r in ours]),
        "ours_rows": median([r["first_rows"] for r in ours]),
        "ours_ready": median([r["ready"] for r in ours]),
        "bare_imported": median([r["imported"] for r in bare]),
        "bare_ready": median([r["ready"] for r in bare]),
        "ours_ready_cpu": median([r["ready_cpu"] for r in ours]),
        "bare_ready_cpu": median([r["ready_cpu"] for r in bare]),
    }
    return m


def report(label: str, m: dict[str, float], goal: float) -> None:
    ratio = m["ours_ready"] / m["bare_ready"]
    print(f"\n{label}")
    print(
        f"  runbook-tui: imports {m['ours_imported'] * 1000:7.1f} ms, first frame "
        f"{m['ours_first'] * 1000:7.1f} ms, ready {m['ours_ready'] * 1000:7.1f} ms"
    )
    print(
        f"  bare Textual: imports {m['bare_imported'] * 1000:6.1f} ms, ready {m['bare_ready'] * 1000:7.1f} ms"
    )
    print(f"  first frame ratio {fmt_ratio(m['ours_first'], m['bare_ready'])}")
    print(f"  first rows ratio  {fmt_ratio(m['ours_rows'], m['bare_ready'])} (a screenful of the list shown)")
    print(f"  ready ratio       {ratio:.2f}x (goal <= {goal}x) {verdict(ratio <= goal)}")
    cpu = m["ours_ready_cpu"] / m["bare_ready_cpu"]
    print(
        f"  CPU to ready      {m['ours_ready_cpu'] * 1000:.0f} ms vs {m['bare_ready_cpu'] * 1000:.0f} ms "
        f"= {cpu:.2f}x (process CPU, steadier than wall time on a busy machine)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--count", type=int, default=500, help="generated runbooks in the big library")
    parser.add_argument(
        "--index", choices=["warm", "cold", "both"], default="both", help="the library index to start with"
    )
    parser.add_argument("--child", choices=["ours", "bare"])
    parser.add_argument("--runbooks")
    parser.add_argument("--titles")
    parser.add_argument("--expect")
    args = parser.parse_args()
    if args.child == "ours":
        print(json.dumps(child_ours(args.runbooks)))
        return
    if args.child == "bare":
        print(json.dumps(child_bare(args.titles)))
        return
    print_machine()
    print(f"start-up to first frame, headless {SIZE[0]}x{SIZE[1]}, median of {args.runs} fresh processes")
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as name:
        tmp = Path(name)
        bundled = [
            _TITLE.search(p.read_text()).group(1)  # type: ignore[union-attr]
            for p in sorted((ROOT / "runbooks").glob("*.yaml"))
        ]
        big = tmp / "library"
        big.mkdir()
        titles = write_library(big, args.count) + bundled
        for index in ("warm", "cold") if args.index == "both" else (args.index,):
            cold = index == "cold"
            m = measure(f"bundled-{index}", args.runs, tmp, None, bundled, cold=cold)
            report(f"bundled runbooks, {index} index", m, 1.15)
            m = measure(f"big-{index}", args.runs, tmp, big, titles, cold=cold)
            report(f"{args.count} generated runbooks + bundled, {index} index", m, 1.3)


if __name__ == "__main__":
    main()
