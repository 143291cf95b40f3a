"""A session with a million output lines reports in seconds, in bounded memory."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.journals import T0, JournalWriter, started

from runbook_tui.core import events as ev

LINES = 1_000_000

PROBE = """
import json, sys, time
from pathlib import Path
from runbook_tui.core.report import markdown, json_report, svg
from runbook_tui.core.report.timeline import build_report
begin = time.perf_counter()
report = build_report(Path(sys.argv[1]))
texts = [markdown.render(report), json_report.render(report), svg.render(report)]
took = time.perf_counter() - begin
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec, so a child of a big pytest
# process would report pytest's peak as its own.
rss_kb = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"seconds": took, "rss_mb": rss_kb / 1024, "lines": report.output_lines,
                  "tail": report.attempts[0].output_tail[-1], "chars": sum(map(len, texts))}))
"""


@pytest.mark.slow
def test_million_output_lines(tmp_path: Path) -> None:
    sid = "20261118T100000Z-flood-0001"
    w = JournalWriter(tmp_path / f"{sid}.jsonl", sid)
    w.add(started(sid))
    w.add(ev.StepStarted(at=T0 + 1, step_id="flood", title="Flood", step_kind="shell", phase="step"))
    at = ev.iso_utc(T0 + 2)
    with w.path.open("a", encoding="utf-8") as handle:
        for start in range(0, LINES, 10_000):
            handle.write(
                "".join(
                    f'{{"kind":"output","at":"{at}","step_id":"flood","seq":{i},'
                    f'"stream":"stdout","text":"line {i}"}}\n'
                    for i in range(start, start + 10_000)
                )
            )
    w.add(ev.StepFinished(at=T0 + 90, step_id="flood", status="failed", duration=89.0, exit_code=1))
    w.add(ev.SessionFinished(at=T0 + 91, outcome="failed", duration=91.0))
    begin = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", PROBE, str(w.path)], capture_output=True, text=True, timeout=120
    )
    wall = time.perf_counter() - begin
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout)
    print(
        f"\n1M-line report: {figures['seconds']:.2f}s, peak RSS {figures['rss_mb']:.0f} MB, wall {wall:.2f}s"
    )
    assert figures["lines"] == LINES and figures["tail"] == f"line {LINES - 1}"
    assert figures["rss_mb"] < 120  # the journal is ~100 MB; keeping it, or its events, would exceed this
