"""Import: a 20,000-line Markdown runbook through the importer and the loader.

The document is generated like the seeds, only longer: an overview, a decision matrix
table, then many procedures, each with a recovery time, a "when to use" list, numbered
steps in fenced ``bash`` blocks (with ``<placeholders>`` and ``cd``), a table of
services and a post-rollback checklist. It goes through
``core.importer.markdown.import_markdown`` (Markdown -> YAML text) and
``core.loader.load_text`` (YAML -> the frozen model), as ``runbook-tui import`` and
the library do. The reference in the same run is PyYAML (libyaml) parsing the YAML
text the importer produced, ``yaml.load(..., CSafeLoader)``: the least any loader of
that text must pay. Each side runs in a fresh process for its own peak RSS;
tracemalloc gives the Python-allocated peak of the import itself.

    /work/venv/bin/python bench/bench_import.py [--lines 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import median, peak_rss_mb, print_machine, run_child

HEAD = """\
# Payments Platform Rollback Runbook

## Overview

This runbook holds every rollback procedure of the payments platform. All rollbacks should be
completed within the SLA window defined in the incident response process.

## Rollback Decision Matrix

| Signal | Threshold | Action |
|--------|-----------|--------|
| Error rate | > 5% of requests | Investigate; rollback if not resolved in 10 min |
| Health check | `/health` returns 503 | Automatic rollback via orchestrator |
| Latency p99 | > 2s sustained for 5 min | Investigate; rollback if degrading |
| Crash loop | > 3 restarts in 5 min | Automatic rollback |

## Rollback Procedures
"""

PROCEDURE = """
### {n}. Service {n} Rollback (Docker)

**Recovery Time**: < {minutes} minutes

**When to use**:
- A bad release of service-{n}
- Error rate above 5% after deploying service-{n}
- Crash loop of the service-{n} container

| Component | Port | Owner |
|-----------|------|-------|
| api-{n} | {port} | team-{team} |
| worker-{n} | {port2} | team-{team} |
| cache-{n} | 6379 | platform |

#### Step 1: Identify the last known good image tag

```bash
docker images service-{n} --format '{{{{.Tag}}}}' | head -5
git log --oneline -10 -- services/service-{n}
```

#### Step 2: Stop the service

```bash
cd services/service-{n}
docker compose stop api-{n}
docker compose rm -f api-{n}
```

#### Step 3: Start the previous version

```bash
git checkout <previous-release-tag>
docker compose up -d api-{n}
docker compose ps api-{n}
```

#### Step 4: Verify

```bash
curl -f http://localhost:{port}/health || echo "HEALTH CHECK FAILED"
curl -s http://localhost:{port}/metrics | grep error_rate
docker compose logs --since 5m api-{n} | tail -50
```

**Post-rollback checklist**:
1. Confirm the error rate is below 1%
2. Post in #incidents that service-{n} was rolled back
3. Open a ticket to fix the bad release
4. Update the status page
"""


def generate(lines: int) -> str:
    """A Markdown runbook of about ``lines`` lines."""
    parts = [HEAD]
    total = HEAD.count("\n")
    n = 0
    while total < lines:
        n += 1
        block = PROCEDURE.format(n=n, minutes=5 + n % 25, port=5000 + n, port2=6000 + n, team=n % 7)
        parts.append(block)
        total += block.count("\n")
    return "".join(parts)


def child(kind: str, path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if kind == "reference":
        import yaml

        from runbook_tui.core.importer.markdown import import_markdown

        yaml_text = import_markdown(text, str(path)).yaml_text
        baseline = peak_rss_mb()
        tracemalloc.start()
        started = time.perf_counter()
        yaml.load(yaml_text, Loader=yaml.CSafeLoader)
        return {
            "seconds": time.perf_counter() - started,
            "rss_before": baseline,
            "peak_rss": peak_rss_mb(),
            "traced": tracemalloc.get_traced_memory()[1] / 2**20,
        }
    from runbook_tui.core.importer.markdown import import_markdown
    from runbook_tui.core.loader import load_text

    baseline = peak_rss_mb()
    started = time.perf_counter()
    imported = import_markdown(text, str(path))
    middle = time.perf_counter()
    runbook = load_text(imported.yaml_text, str(path), line_map=imported.line_map)
    ended = time.perf_counter()
    peak = peak_rss_mb()
    tracemalloc.start()
    load_text(import_markdown(text, str(path)).yaml_text, str(path), line_map=imported.line_map)
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    return {
        "seconds": ended - started,
        "import_s": middle - started,
        "load_s": ended - middle,
        "rss_before": baseline,
        "peak_rss": peak,
        "traced": traced,
        "procedures": len(runbook.procedures),
        "steps": sum(len(p.steps) for p in runbook.procedures),
        "yaml_lines": imported.yaml_text.count("\n"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=["ours", "reference"])
    parser.add_argument("--path")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, Path(args.path))))
        return
    print_machine()
    with tempfile.TemporaryDirectory(prefix="bench-import-") as name:
        path = Path(name) / "big-runbook.md"
        path.write_text(generate(args.lines), encoding="utf-8")
        size = path.stat().st_size
        print(
            f"import: {path.read_text().count(chr(10)):,}-line Markdown ({size / 1024:.0f} KiB), "
            f"median of {args.runs} fresh processes",
            flush=True,
        )
        me = str(Path(__file__).resolve())
        ours, ref = [], []
        for _ in range(args.runs):
            ours.append(run_child([me, "--child", "ours", "--path", str(path)]))
            ref.append(run_child([me, "--child", "reference", "--path", str(path)]))
    o = {
        k: median([r[k] for r in ours])
        for k in ("seconds", "import_s", "load_s", "peak_rss", "rss_before", "traced")
    }
    r = {k: median([x[k] for x in ref]) for k in ("seconds", "peak_rss", "rss_before", "traced")}
    first = ours[0]
    print(
        f"  result: {first['procedures']} procedures, {first['steps']} steps, "
        f"{first['yaml_lines']:,} YAML lines"
    )
    print(
        f"  import_markdown + load_text  {o['seconds']:6.2f} s "
        f"(import {o['import_s']:.2f} s, load {o['load_s']:.2f} s)"
        f"  peak RSS {o['peak_rss']:.0f} MB (+{o['peak_rss'] - o['rss_before']:.0f})"
        f"  tracemalloc peak {o['traced']:.0f} MB"
    )
    print(
        f"  libyaml load of that YAML    {r['seconds']:6.2f} s"
        f"  peak RSS {r['peak_rss']:.0f} MB  tracemalloc peak {r['traced']:.0f} MB"
    )
    print(f"  ratio: {o['seconds'] / r['seconds']:.1f}x the time of a bare libyaml parse")


if __name__ == "__main__":
    main()
