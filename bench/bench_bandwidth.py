"""Bandwidth: bytes the app writes to an 80x24 terminal while a step floods its log.

The real command (``runbook-tui open FILE stream``) runs on a pseudo-terminal of 80x24
(``TERM=xterm-256color``, ``COLORTERM=truecolor``). The benchmark presses ``r``; the
step prints about 800 lines a second (about 51 bytes each, flushed one by one) for
10 seconds, then a last line with a marker. What is measured, in the same run:

- the step's own bytes per second (the raw stream: the reference);
- the bytes per second the app wrote to the terminal while the step streamed;
- the time from the step writing its last line to that line reaching the terminal;
- the idle bytes per second (nothing running; the clock only), before ``r``.

Each case runs plain and coloured (SGR in every line), by default and with
``--low-bandwidth``. Goals: <= 20 KiB/s by default, <= 8 KiB/s with ``--low-bandwidth``,
the last line on screen within 100 ms.

    /work/main/.venv/bin/python bench/bench_bandwidth.py [--seconds 10] [--rate 800] [--runs 1]
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PYTHON, ROOT, isolated_env, median, print_machine, verdict

COLS, ROWS = 80, 24
MARK = "LASTLINE-7f3a"

# The step: paced to RATE lines a second, each flushed; then the marker line. It notes
# when it started, when it wrote its last line, and how many bytes it wrote.
STREAM = r"""
import sys, time
rate, seconds, colour, stamp = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
out = sys.stdout
total = int(rate * seconds)
start = time.time()
written = 0
for i in range(total):
    due = start + i / rate
    now = time.time()
    if due > now:
        time.sleep(due - now)
    if colour:
        line = (
            f"\x1b[2m12:00:{i % 60:02d}\x1b[0m \x1b[32mINFO\x1b[0m req {i:06d} "
            f"served in {i % 97:2d} ms \x1b[1mok\x1b[0m\n"
        )
    else:
        line = f"2026-11-27T12:00:{i % 60:02d}.123 INFO request {i:06d} served in {i % 97:2d} ms ok\n"
    out.write(line)
    out.flush()
    written += len(line.encode())
end_stream = time.time()
out.write("MARK\n")
out.flush()
last = time.time()
open(stamp, "w").write(f"{start} {end_stream} {last} {written}")
""".replace("MARK", MARK)

RUNBOOK = """\
runbook: 1
id: bench-bandwidth
title: Bandwidth benchmark
procedures:
  - id: stream
    title: Flood the log
    steps:
      - id: flood
        title: Print {rate} lines a second
        kind: shell
        command: python3 stream.py {rate} {seconds} {colour} {stamp}
"""


class Pty:
    """The app on a pseudo-terminal; every byte it writes is kept with its arrival time."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=cwd, start_new_session=True
        )
        os.close(slave)
        self.chunks: list[tuple[float, bytes]] = []

    def pump(self, seconds: float) -> None:
        """Read what the app writes for ``seconds``."""
        deadline = time.time() + seconds
        while (left := deadline - time.time()) > 0:
            ready, _, _ = select.select([self.master], [], [], min(left, 0.05))
            if ready:
                try:
                    data = os.read(self.master, 65536)
                except OSError:
                    return
                if not data:
                    return
                self.chunks.append((time.time(), data))

    def until(self, text: bytes, timeout: float) -> float:
        """Read until ``text`` has been written; returns when it arrived."""
        deadline = time.time() + timeout
        tail = b""
        while time.time() < deadline:
            start = len(self.chunks)
            self.pump(0.01)
            for at, data in self.chunks[start:]:
                tail = (tail + data)[-(len(text) + 65536) :]
                if text in tail:
                    return at
        raise TimeoutError(f"{text!r} never reached the terminal")

    def send(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def bytes_between(self, start: float, end: float) -> int:
        return sum(len(d) for at, d in self.chunks if start <= at <= end)

    def close(self) -> None:
        self.send(b"\x11")  # ctrl+q
        try:
            self.pump(0.5)
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        os.close(self.master)


def one_run(rate: int, seconds: float, colour: bool, low: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-bw-") as name:
        folder = Path(name)
        stamp = folder / "stamp.txt"
        (folder / "stream.py").write_text(STREAM)
        runbook = folder / "bench-bandwidth.yaml"
        runbook.write_text(RUNBOOK.format(rate=rate, seconds=seconds, colour=int(colour), stamp=stamp))
        env = isolated_env(folder / "env")
        env.update(TERM="xterm-256color", COLORTERM="truecolor", PYTHONPATH=str(ROOT))
        env.pop("NO_COLOR", None)
        argv = [PYTHON, "-m", "runbook_tui", "open", str(runbook), "stream", "--workdir", str(folder)]
        if low:
            argv.append("--low-bandwidth")
        term = Pty(argv, env, folder)
        try:
            term.until(b"Flood the log", 60)
            term.pump(1.0)  # settle: the first frames are not the idle cost
            idle_from = time.time()
            term.pump(3.0)
            idle = term.bytes_between(idle_from, time.time()) / (time.time() - idle_from)
            term.send(b"r")
            deadline = time.time() + seconds + 60
            while not stamp.exists() or not stamp.read_text().strip():
                term.pump(0.05)
                if time.time() > deadline:
                    raise TimeoutError("the step never finished")
            start, end_stream, last, written = (float(x) for x in stamp.read_text().split())
            try:
                shown = term.until(MARK.encode(), 10)
            except TimeoutError:  # the last line never reached the screen
                shown = float("inf")
            term.pump(0.5)
            sent = term.bytes_between(start, end_stream)
        finally:
            term.close()
        if os.environ.get("BENCH_DUMP"):  # what the terminal got while the step streamed
            Path(os.environ["BENCH_DUMP"]).write_bytes(
                b"".join(d for at, d in term.chunks if start <= at <= end_stream)
            )
    span = end_stream - start
    return {
        "raw_bps": written / span,
        "app_bps": sent / span,
        "latency": shown - last,
        "idle_bps": idle,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=800)
    parser.add_argument("--runs", type=int, default=1, help="runs per case (median)")
    parser.add_argument("--json", action="store_true", help="one JSON object with every figure")
    parser.add_argument("--default-only", action="store_true", help="skip the --low-bandwidth cases")
    args = parser.parse_args()
    if not args.json:
        print_machine()
        print(f"bandwidth at {COLS}x{ROWS}: a step printing {args.rate} lines/s for {args.seconds:g} s")
    figures: dict[str, dict[str, float]] = {}
    for low in (False,) if args.default_only else (False, True):
        for colour in (False, True):
            runs = [one_run(args.rate, args.seconds, colour, low) for _ in range(args.runs)]
            case = f"{'low-bandwidth' if low else 'default'}, {'coloured' if colour else 'plain'}"
            result = {k: median([r[k] for r in runs]) for k in runs[0]}
            figures[case] = result
            if args.json:
                continue
            goal = 8 if low else 20
            kib = result["app_bps"] / 1024
            print(
                f"  {case:28s} app {kib:6.1f} KiB/s (goal <= {goal}) {verdict(kib <= goal)}; "
                f"stream {result['raw_bps'] / 1024:5.1f} KiB/s "
                f"({result['app_bps'] / result['raw_bps']:.2f}x); "
                f"last line {result['latency'] * 1000:5.0f} ms {verdict(result['latency'] <= 0.1)}; "
                f"idle {result['idle_bps']:4.0f} B/s"
            )
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
