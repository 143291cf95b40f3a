"""``runbook-tui plan RUNBOOK PROCEDURE``: what the procedure would do here, changing nothing.

Exit codes: 0 everything could be planned, 1 something could not, 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from ..core.errors import UsageError


def run(args: argparse.Namespace) -> int:
    """Print the plan (text or ``--json``); the exit code."""
    from ..console import runner
    from ..core.plan import build_plan, plan_data, plan_lines

    runbook = runner.resolve(args.runbook, getattr(args, "runbooks", []) or [])
    procedure = runbook.procedure(args.procedure)
    if procedure is None:
        known = ", ".join(f"{p.id} ({n})" for n, p in enumerate(runbook.procedures, start=1))
        raise UsageError(f"{runbook.path or runbook.id}: no procedure {args.procedure!r}; it has: {known}")
    given = runner.given_params(args, runbook)
    workdir = Path(args.workdir) if args.workdir else Path.cwd()
    if not workdir.is_dir():
        raise UsageError(f"--workdir {workdir} is not a folder; create it or point at the right one")
    plan = asyncio.run(build_plan(runbook, procedure, workdir=workdir, params=given.values))
    if args.json:
        json.dump(plan_data(plan), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write("\n".join(plan_lines(plan)) + "\n")
    return 0 if plan.complete else 1
