"""Shared helpers for the benchmark scripts: machine facts, memory, medians, fresh subprocesses."""

from __future__ import annotations

import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

PYTHON = sys.executable
BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB.

    VmHWM, not ``ru_maxrss``: Linux carries ``ru_maxrss`` over exec, so a child of a
    bigger parent would report the parent's peak as its own.
    """
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Resident set size now, in MB (from /proc)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
    except OSError:
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / (1024 * 1024)


def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, str]:
    """What the figures were taken on."""
    import textual

    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return {
        "cpu": cpu_model(),
        "nproc": str(os.cpu_count()),
        "memory": f"{mem:.1f} GiB",
        "python": platform.python_version(),
        "textual": textual.__version__,
        "os": platform.platform(),
    }


def print_machine() -> None:
    info = machine()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()))


def isolated_env(tmp: Path) -> dict[str, str]:
    """An environment whose config, data and sessions live under ``tmp`` (no user config read)."""
    env = dict(os.environ)
    env["RUNBOOK_TUI_CONFIG_DIR"] = str(tmp / "config")
    env["RUNBOOK_TUI_DATA_DIR"] = str(tmp / "data")
    env.pop("RUNBOOK_TUI_RUNBOOKS", None)
    # Installed packages run from compiled bytecode; this shell sets PYTHONDONTWRITEBYTECODE,
    # which would make every child recompile edited modules (~200 ms of "start-up").
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_child(args: Sequence[str], env: dict[str, str] | None = None, timeout: float = 300) -> dict[str, Any]:
    """Run ``python <args>`` in a fresh process; it prints one JSON object as its last line.

    ``BENCH_T0`` (the wall clock just before the spawn) lets the child measure from process start.
    """
    child_env = dict(env if env is not None else os.environ)
    child_env["BENCH_T0"] = repr(time.time())
    proc = subprocess.run(
        [PYTHON, *args], capture_output=True, text=True, env=child_env, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {args} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def since_spawn() -> float:
    """Seconds since the parent spawned this process (``BENCH_T0``)."""
    return time.time() - float(os.environ["BENCH_T0"])


def count_lines(path: Path | str) -> int:
    """Newlines in a file, read in blocks (a 1M-line journal must not be held in memory)."""
    count = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            count += block.count(b"\n")
    return count


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def fmt_ratio(ours: float, ref: float) -> str:
    return f"{ours / ref:.2f}x" if ref else "n/a"
