"""The default command and ``open``: the library, or straight into a runbook (and procedure).

``resume`` without ``--plain`` comes here too, with ``args.resume_session`` set to the
journal to continue on the run screen.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.errors import UsageError

if TYPE_CHECKING:
    from ..core.model import Runbook
    from ..core.param_sources import GivenParams


def display_options(args: argparse.Namespace) -> dict[str, Any]:
    """``refresh_rate`` and ``low_bandwidth`` for ``AppOptions``: the flags, else the config file."""
    from ..config import load_config

    config = load_config()
    low = getattr(args, "low_bandwidth", None)
    return {
        "refresh_rate": getattr(args, "refresh", None) or config.refresh,
        "low_bandwidth": config.low_bandwidth if low is None else bool(low),
    }


def run(args: argparse.Namespace) -> int:
    """Open the app; with RUNBOOK (and PROCEDURE) go straight there; ``--drill`` builds a sandbox."""
    from ..core.library import resolve_runbook

    dirs = tuple(Path(d) for d in getattr(args, "runbooks", []) or [])
    ref = getattr(args, "runbook", None)
    procedure = getattr(args, "procedure", None)
    runbook = resolve_runbook(ref, list(dirs)) if ref else None
    if runbook is not None and procedure and runbook.procedure(procedure) is None:
        known = ", ".join(p.id for p in runbook.procedures)
        raise UsageError(f"{runbook.id} has no procedure {procedure!r}; it has: {known}")
    workdir = Path(args.workdir).resolve() if getattr(args, "workdir", None) else None
    drill = bool(getattr(args, "drill", False))
    if drill and runbook is None:
        raise UsageError("--drill needs a RUNBOOK to build a sandbox for")
    from ..ui.app import AppOptions, RunbookApp

    resume = getattr(args, "resume_session", None)
    given = _given_params(args, runbook)
    from ..console.runner import evidence_options

    impact, roles = evidence_options(args)  # bad --impact-started or --role: exit 2 before the app
    options = AppOptions(
        runbook_dirs=dirs,
        runbook=runbook,
        procedure=procedure,
        # A resumed drill looks like a drill; its sandbox is whatever is left in its workdir.
        drill=bool(getattr(args, "resume_drill", False)),
        workdir=workdir,
        resume_session=Path(resume) if resume else None,
        freeze_gc=True,
        params=given.values,
        param_sources=given.sources,
        **display_options(args),
        impact_started_at=impact,
        roles=roles,
    )
    sandbox = None
    if drill and runbook is not None:
        from ..core import drills
        from .drill import drill_options

        sandbox = drills.build_sandbox(runbook, getattr(args, "fault", None))
        options = drill_options(options, sandbox)
    app = RunbookApp(options)
    try:
        result = app.run()
    finally:
        if sandbox is not None:
            sandbox.close(keep=bool(getattr(args, "keep", False)))
    for session_id in app.left_open:
        try:
            print(
                f"runbook-tui: session {session_id} is still open (not finished); "
                f"'runbook-tui resume {session_id}' continues it",
                file=sys.stderr,
            )
        except OSError:
            break  # the terminal hung up: nobody to tell; the journal says it all
    return int(result or 0)


def _given_params(args: argparse.Namespace, runbook: Runbook | None) -> GivenParams:
    """``--param`` (run), ``--param-file`` and ``RUNBOOK_TUI_PARAM_<name>`` for ``runbook``, validated."""
    from ..core.param_sources import GivenParams, gather

    if runbook is None:
        if getattr(args, "param", None) or getattr(args, "param_file", None):
            raise UsageError("--param and --param-file need a RUNBOOK to give values to")
        return GivenParams()
    return gather(runbook, getattr(args, "param", None) or [], getattr(args, "param_file", None))


def follow(summary: Any, args: argparse.Namespace) -> int:
    """``runbook-tui follow`` in the app: the run screen, read-only, fed from the session's journal."""
    from ..ui.app import RunbookApp

    return int(RunbookApp(follow_options(summary, args)).run() or 0)


def follow_options(summary: Any, args: argparse.Namespace) -> Any:
    """The ``AppOptions`` that open the run screen on ``summary``'s session, read-only."""
    from ..ui.app import AppOptions
    from .sessions import resolve_runbook

    runbook = resolve_runbook(summary, getattr(args, "runbooks", []) or [])
    if runbook.procedure(summary.procedure) is None:
        raise UsageError(
            f"{runbook.path or runbook.id} has no procedure {summary.procedure!r} any more; "
            f"'runbook-tui follow {summary.id} --plain' shows the session without it"
        )
    return AppOptions(
        runbook=runbook,
        procedure=summary.procedure,
        drill=summary.mode == "drill",
        follow_session=summary.path,
        following=summary.operator or "an unrecorded operator",
        freeze_gc=bool(getattr(args, "freeze_gc", True)),
        **display_options(args),
    )
