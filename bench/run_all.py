"""Run every benchmark, one after the other, each printing its own figures.

    /work/venv/bin/python bench/run_all.py [--quick]

``--quick`` passes smaller sizes and fewer runs (a smoke run, not figures to record).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCRIPTS = {
    "bench_startup.py": ["--runs", "2", "--count", "100"],
    "bench_log_stream.py": ["--lines", "100000"],
    "bench_headless.py": ["--lines", "100000", "--runs", "1"],
    "bench_import.py": ["--lines", "5000", "--runs", "1"],
    "bench_report.py": ["--lines", "100000", "--runs", "1"],
    "bench_resume.py": ["--lines", "100000", "--runs", "1"],
    "bench_fleet.py": ["--runs", "1"],  # needs the loopback sshd (scripts/components.sh sshd-start)
    "bench_bandwidth.py": ["--seconds", "3"],
    "bench_follow.py": ["--lines", "100000"],
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    failed = 0
    for script, quick in SCRIPTS.items():
        print(f"\n=== {script} ===", flush=True)
        started = time.perf_counter()
        code = subprocess.run(
            [sys.executable, str(BENCH / script), *(quick if args.quick else [])], check=False
        )
        print(f"(took {time.perf_counter() - started:.0f} s)", flush=True)
        failed += code.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
