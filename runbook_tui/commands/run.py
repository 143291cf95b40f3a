"""``runbook-tui run RUNBOOK PROCEDURE``: headless with ``--plain``, otherwise in the app."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    """Run a procedure; returns the exit code (0 succeeded, 1 failed, 2 bad usage)."""
    if getattr(args, "plan_first", False) and (not args.plain or args.drill):
        from ..core.errors import UsageError

        raise UsageError("--plan-first works with --plain and without --drill; in the app, p shows the plan")
    if not args.plain:
        from . import app  # Textual is imported only on this path

        return int(app.run(args))
    from ..console import runner

    return runner.run(args)
