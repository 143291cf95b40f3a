"""``runbook-tui drill RUNBOOK [PROCEDURE]``: build the sandbox, open the app on it, score the run."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import UsageError

if TYPE_CHECKING:  # the drill and UI modules are imported only when the command runs
    from ..core.drills import Sandbox
    from ..core.model import Runbook
    from ..ui.app import AppOptions


def run(args: argparse.Namespace) -> int:
    """Build the drill sandbox, run the app in drill mode inside it, tear down, print the score."""
    from ..core import drills
    from ..core.library import resolve_runbook

    dirs = [Path(d) for d in getattr(args, "runbooks", []) or []]
    runbook = resolve_runbook(args.runbook, dirs)
    if args.list_faults:
        definition = drills.find_drill(runbook)
        for fault in definition.faults:
            where = f" [{fault.procedure}: {fault.fails_step}]" if fault.procedure else ""
            print(f"{fault.name:<22} {fault.summary}{where}")
        return 0
    if args.procedure and runbook.procedure(args.procedure) is None:
        known = ", ".join(p.id for p in runbook.procedures)
        raise UsageError(f"{runbook.id} has no procedure {args.procedure!r}; it has: {known}")
    from ..console.runner import evidence_options

    evidence_options(args)  # a bad --impact-started or --role exits 2 before anything is built
    started = time.time()
    print(f"Building the {runbook.id} drill sandbox ...", file=sys.stderr, flush=True)
    sandbox = drills.build_sandbox(runbook, args.fault)
    try:
        _announce(sandbox)
        result = _open_app(args, dirs, runbook, sandbox)
    finally:
        sandbox.close(keep=args.keep)
    if args.keep:
        print(f"Sandbox kept at {sandbox.root} (services stopped).", file=sys.stderr)
    _print_scores(runbook.id, started, sandbox)
    return result


def _announce(sandbox: Sandbox) -> None:
    if sandbox.notice:
        print(sandbox.notice, file=sys.stderr)
    print(f"Sandbox ready in {sandbox.workdir}", file=sys.stderr)
    if sandbox.fault_was_random:
        print("A fault was picked at random; it is revealed with the score.", file=sys.stderr)
    elif sandbox.faults:
        print(f"Fault injected: {sandbox.faults[0]}", file=sys.stderr)
    if sandbox.params:
        values = ", ".join(f"{k}={v}" for k, v in sandbox.params.items())
        print(f"Drill parameter values: {values}", file=sys.stderr)


def _open_app(args: argparse.Namespace, dirs: list[Path], runbook: Runbook, sandbox: Sandbox) -> int:
    from ..console.runner import evidence_options
    from ..core.param_sources import gather
    from ..ui.app import AppOptions, RunbookApp
    from .app import display_options

    given = gather(runbook, [], getattr(args, "param_file", None))
    impact, roles = evidence_options(args)
    options = AppOptions(
        runbook_dirs=tuple(dirs),
        runbook=runbook,
        procedure=args.procedure,
        freeze_gc=True,
        params=given.values,
        param_sources=given.sources,
        **display_options(args),
        impact_started_at=impact,
        roles=roles,
    )
    return int(RunbookApp(drill_options(options, sandbox)).run() or 0)


def drill_options(options: AppOptions, sandbox: Sandbox) -> AppOptions:
    """``options`` for a drill in ``sandbox``: its workdir and stand-ins, its fault, its caps.

    The same fault and caps as a headless ``run --drill`` (``Sandbox.fault``, ``Sandbox.limits``),
    so a drill in the app watches and retries as long and scores the same as one run with ``--plain``.
    """
    return dataclasses.replace(
        options,
        drill=True,
        workdir=sandbox.workdir,
        env=dict(sandbox.env),
        drill_fault=sandbox.fault,
        drill_fault_random=sandbox.fault_was_random,
        drill_limits=sandbox.limits,
    )


def _print_scores(runbook_id: str, since: float, sandbox: Sandbox) -> None:
    from ..core.drills import format_score
    from ..core.drills.debrief import drill_sessions_since, score_journal

    journals = drill_sessions_since(runbook_id, since)
    if not journals:
        print("No procedure was run, so there is no score.")
    for path in journals:
        print(format_score(score_journal(path, sandbox.fault)))
        print(f"  report: runbook-tui report {path.stem}")
    if sandbox.fault_was_random and sandbox.faults:
        print(f"The random fault was: {sandbox.faults[0]}")
