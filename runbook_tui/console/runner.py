"""The headless runner: ``runbook-tui run RUNBOOK PROCEDURE --plain``, one line per event.

It writes the same journal as the app. Gates are asked on the terminal with
``input()`` (in a thread, so background steps keep streaming), or confirmed by
``--yes``; without a terminal and without ``--yes`` a gate fails closed. Ctrl-C
cancels the running step, records it, and finishes the session as aborted.
Exit codes: 0 succeeded, 1 a step or check failed, 2 bad usage, 130 aborted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..core import preflight
from ..core.engine import Session, check_params, default_operator
from ..core.errors import UsageError
from ..core.events import Outcome, StepStatus
from ..core.model import Procedure, Runbook
from ..core.param_sources import GivenParams
from ..core.worklock import lock_new_journal
from .asker import PlainAsker, ask_line
from .printer import Printer, local_datetime

if TYPE_CHECKING:
    from ..core.drills.limits import DrillLimits
    from ..core.drills.sandbox import Sandbox

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ABORTED = 0, 1, 2, 130
# The terminal went away (SSH drop) or the process is told to stop: leave the session open.
HANG_UP_SIGNALS = (signal.SIGHUP, signal.SIGTERM)


def parse_params(pairs: Sequence[str], runbook: Runbook) -> dict[str, str]:
    """``--param K=V`` values, validated (UsageError or ParameterError, both exit 2); no secrets."""
    from ..core.param_sources import command_line_params

    return command_line_params(runbook, pairs)


def given_params(args: argparse.Namespace, runbook: Runbook) -> GivenParams:
    """Values from ``--param``, ``--param-file`` and ``RUNBOOK_TUI_PARAM_<name>``, validated."""
    from ..core.param_sources import gather

    return gather(runbook, getattr(args, "param", None) or [], getattr(args, "param_file", None))


def _warn_secret_arguments(runbook: Runbook) -> None:
    """Say, before anything runs, where a command hands a secret to a program as an argument."""
    from ..core.secret_args import secret_argument_warnings

    for _step, text in secret_argument_warnings(runbook.procedures, runbook.parameters):
        print(f"runbook-tui: warning: {text}", file=sys.stderr)


def _interactive() -> bool:
    return sys.stdin.isatty()


def resolve(ref: str, extra_dirs: Sequence[str]) -> Runbook:
    """The runbook named by ``ref`` (an id or a path), searching ``extra_dirs`` too."""
    from ..core.library import resolve_runbook

    return resolve_runbook(ref, [Path(d) for d in extra_dirs])


def run(args: argparse.Namespace) -> int:
    """``runbook-tui run RUNBOOK PROCEDURE --plain``: run the procedure headless; the exit code."""
    runbook = resolve(args.runbook, getattr(args, "runbooks", []) or [])
    procedure = runbook.procedure(args.procedure)
    if procedure is None:
        known = ", ".join(f"{p.id} ({n})" for n, p in enumerate(runbook.procedures, start=1))
        raise UsageError(f"{runbook.path or runbook.id}: no procedure {args.procedure!r}; it has: {known}")
    given = given_params(args, runbook)
    _warn_secret_arguments(runbook)
    workdir = Path(args.workdir) if args.workdir else Path.cwd()
    if not args.drill and not workdir.is_dir():
        raise UsageError(f"--workdir {workdir} is not a folder; create it or point at the right one")
    printer = Printer(sys.stdout, tty=sys.stdout.isatty())
    asker = PlainAsker(printer, interactive=_interactive(), yes=bool(args.yes))
    impact, roles = evidence_options(args)
    accept = bool(getattr(args, "accept_preflight", False))
    reviewed: Reviewed | None = None
    if getattr(args, "plan_first", False) and not args.drill:
        reviewed = _plan_first(runbook, procedure, given.values, workdir, printer, yes=bool(args.yes))
        if reviewed is None:
            return EXIT_FAILED
    if not args.drill:
        found = _preflight(runbook, procedure, os.environ, workdir, accept=accept)
        return _run_session(
            runbook,
            procedure.id,
            given.values,
            workdir,
            None,
            "live",
            printer,
            asker,
            sources=given.sources,
            checked=found,
            reviewed=reviewed,
            impact_started_at=impact,
            roles=roles,
        )
    sandbox = _build_sandbox(runbook, args.fault)
    try:
        if sandbox.notice:
            printer.say(f"drill: {sandbox.notice}")
        printer.say(f"drill sandbox: {sandbox.workdir}")
        params = {**check_params(runbook, dict(sandbox.params)), **given.values}
        env = {**os.environ, **sandbox.env}
        found = _preflight(runbook, procedure, env, Path(sandbox.workdir), accept=accept)
        return _run_session(
            runbook,
            procedure.id,
            params,
            Path(sandbox.workdir),
            dict(sandbox.env),
            "drill",
            printer,
            asker,
            limits=sandbox.limits,
            sources=given.sources,
            checked=found,
            impact_started_at=impact,
            roles=roles,
        )
    finally:
        keep = bool(getattr(args, "keep", False))
        sandbox.close(keep=keep)
        if keep:
            printer.say(f"drill sandbox kept at {sandbox.workdir}")


Reviewed = tuple[list[str], list[str], str]  # the plan's lines, what could not be planned, who looked


def _plan_first(
    runbook: Runbook,
    procedure: Procedure,
    params: Mapping[str, str],
    workdir: Path,
    printer: Printer,
    *,
    yes: bool,
) -> Reviewed | None:
    """Print the plan and ask once (``--plan-first``); None when the engineer says no."""
    from ..core import plan as planning

    the_plan = asyncio.run(planning.build_plan(runbook, procedure, workdir=workdir, params=params))
    lines = planning.plan_lines(the_plan)
    for line in lines:
        printer.say(line)
    unplanned = list(the_plan.unplanned)
    if yes:
        return lines, unplanned, "--yes"
    if not _interactive():
        printer.say(
            "not run: there is no terminal to ask whether to go ahead; pass --yes to run after the plan"
        )
        return None
    answer = asyncio.run(ask_line("Run this plan? [y/N] "))
    if (answer or "").strip().lower() not in ("y", "yes"):
        printer.say("not run: the plan was not accepted")
        return None
    return lines, unplanned, "engineer"


def _preflight(
    runbook: Runbook, procedure: Procedure, env: Mapping[str, str], workdir: Path, *, accept: bool
) -> tuple[preflight.Finding, ...]:
    """The pre-flight's findings; with any and no --accept-preflight, a usage error listing them.

    ``--yes`` answers confirmation gates; it does not accept a missing program or variable.
    """
    found = preflight.check(runbook, procedure, env=env, workdir=workdir.resolve())
    if found and not accept:
        listed = "\n".join(f"  - {line}" for line in preflight.describe(found))
        raise UsageError(
            f"pre-flight: {len(found)} problem(s) before the first step of {procedure.id}:\n{listed}\n"
            "fix them, or pass --accept-preflight to run anyway"
        )
    return found


def evidence_options(args: argparse.Namespace) -> tuple[float | None, dict[str, str]]:
    """``--impact-started`` (epoch seconds) and ``--role`` parsed (bad input: UsageError, exit 2)."""
    from ..core.evidence import parse_impact_time, parse_roles

    text = getattr(args, "impact_started", None)
    impact = parse_impact_time(text, time.time()) if text else None
    return impact, parse_roles(list(getattr(args, "role", None) or []))


def _build_sandbox(runbook: Runbook, fault: str | None) -> Sandbox:
    from ..core.drills import build_sandbox  # only drills pay for importing the sandbox machinery

    return build_sandbox(runbook, fault=fault)


def _run_session(
    runbook: Runbook,
    procedure_id: str,
    params: Mapping[str, str],
    workdir: Path,
    env: Mapping[str, str] | None,
    mode: str,
    printer: Printer,
    asker: PlainAsker,
    *,
    limits: DrillLimits | None = None,
    sources: Mapping[str, str] | None = None,
    checked: tuple[preflight.Finding, ...] = (),
    reviewed: Reviewed | None = None,
    impact_started_at: float | None = None,
    roles: Mapping[str, str] | None = None,
) -> int:
    lock, journal = lock_new_journal(runbook.id, workdir, default_operator())
    printer.say(f"runbook-tui {__version__}: journal {journal.path}")
    try:
        session = Session(
            runbook,
            procedure_id,
            workdir=workdir,
            ask=asker,
            mode=mode,
            params=params,
            journal=journal,
            env=env,
            limits=limits,
            param_sources=sources,
            worklock=lock,
            impact_started_at=impact_started_at,
            roles=roles,
        )
    except BaseException:
        journal.close()
        lock.release()
        raise
    session.subscribe(printer)
    try:
        offer_retry = asker.interactive and not asker.yes
        return asyncio.run(
            drive(session, printer, checked=checked, reviewed=reviewed, offer_retry=offer_retry)
        )
    finally:
        lock.release()  # a no-op after finish; the session (if open) is resumable, not live


def resume(
    path: Path,
    runbook: Runbook,
    *,
    yes: bool = False,
    given: GivenParams | None = None,
    accept_damaged: bool = False,
    from_step: str | None = None,
) -> int:
    """``runbook-tui resume --plain``: continue a recorded session headless; the exit code.

    Secret values were never journalled: they come again from ``given`` (``--param-file``,
    the environment) or are asked for when a step needs them.
    """
    printer = Printer(sys.stdout, tty=sys.stdout.isatty())
    interactive = _interactive()
    asker = PlainAsker(printer, interactive=interactive, yes=yes)
    given = given or GivenParams()
    session = Session.resume(
        Path(path),
        runbook,
        asker,
        params=given.values,
        param_sources=given.sources,
        lock_workdir=True,
        accept_damaged=accept_damaged,
    )
    for warning in session.warnings:
        printer.say(f"warning: {warning}")
    state = session.state
    done = [sid for sid in state.step_order if state.steps[sid].status.is_ok]
    printer.say(
        f"resumed {session.session_id}: started {local_datetime(state.started_at or 0)}, "
        f"{len(done)} step(s) already done; journal {session.journal_path}"
    )
    session.subscribe(printer)
    if from_step:
        try:
            skipped, rerun = session.run_from(from_step)
        except BaseException:
            session.close()
            raise
        printer.say(
            f"running from {from_step}: skipped over {', '.join(skipped) or 'nothing'}; "
            f"to run again: {', '.join(rerun) or 'nothing'}"
        )
    try:
        return asyncio.run(_resume_and_drive(session, printer, interactive=interactive, yes=yes))
    finally:
        session.close()  # a no-op after finish; otherwise the session stays open for the next resume


async def _resume_and_drive(session: Session, printer: Printer, *, interactive: bool, yes: bool) -> int:
    state = session.state
    for step_id in [s for s in state.step_order if state.steps[s].status is StepStatus.INTERRUPTED]:
        step = state.steps[step_id]
        last = f"; its last line: {step.tail[-1].text}" if step.tail else ""
        printer.say(f"step {step_id} ({step.title}) was interrupted after {step.output_lines} line(s){last}")
        if yes:
            continue  # run_all runs it again
        if not interactive:
            printer.say("  no terminal to ask whether to re-run it or mark it done; pass --yes to re-run it")
            return EXIT_FAILED
        choice = (await ask_line("Re-run it [r], mark it done [d], or stop [s]? ") or "s").strip().lower()
        if choice.startswith("d"):
            note = (await ask_line("How do you know it is done? ") or "").strip()
            session.mark_done(step_id, note or "marked done after resume")
        elif not choice.startswith("r"):
            printer.say("stopped; the session stays open: runbook-tui resume continues it")
            return EXIT_FAILED
    return await drive(session, printer, offer_retry=interactive and not yes)


async def _run_offering_retry(session: Session, printer: Printer, offer_retry: bool) -> bool:
    """``run_all``; after a failed step, with a terminal, offer to retry that step alone."""
    ok = await session.run_all()
    while not ok and offer_retry:
        state = session.state
        failed = next(
            (s.id for s, _ in session.steps() if state.step(s.id).status is StepStatus.FAILED), None
        )
        if failed is None:
            return ok
        answer = await ask_line(f"step {failed} failed. Retry it alone [r], or stop [s]? ")
        if not (answer or "").strip().lower().startswith("r"):
            return ok
        if not (await session.retry(failed)).is_ok:
            continue
        ok = await session.run_all()
    return ok


async def drive(
    session: Session,
    printer: Printer,
    *,
    checked: tuple[preflight.Finding, ...] = (),
    reviewed: Reviewed | None = None,
    offer_retry: bool = False,
) -> int:
    """Start (or continue) the session, run every step, finish it.

    Ctrl-C aborts cleanly (recorded, finished as aborted). A hang-up (SSH drop) or
    SIGTERM stops the running step and leaves the session open for ``resume``.
    """
    loop = asyncio.get_running_loop()
    await session.start()
    if checked:  # only reached when --accept-preflight was given (see _preflight)
        session.record_preflight(checked, accepted=True, by="--accept-preflight")
    if reviewed is not None:
        session.record_plan(reviewed[0], reviewed[1], by=reviewed[2])
    runner = asyncio.create_task(_run_offering_retry(session, printer, offer_retry))
    stopped_by = ""

    def on_sigint() -> None:
        nonlocal stopped_by
        if not stopped_by:
            running = ", ".join(session.state.running()) or "nothing running"
            printer.say(f"interrupted: cancelling {running}; the session will finish as aborted")
            stopped_by = "SIGINT"
        runner.cancel()
        session.cancel_all()

    def on_hangup(signum: signal.Signals) -> None:
        nonlocal stopped_by
        if stopped_by:
            return
        stopped_by = signum.name
        if signum is signal.SIGHUP:
            printer.silence()
        why = "the terminal hung up" if signum is signal.SIGHUP else f"runbook-tui got {signum.name}"
        session.hang_up(why)
        runner.cancel()

    loop.add_signal_handler(signal.SIGINT, on_sigint)
    for signum in HANG_UP_SIGNALS:
        loop.add_signal_handler(signum, on_hangup, signum)
    try:
        try:
            await runner
        except asyncio.CancelledError:
            if not stopped_by:
                raise
        if stopped_by and stopped_by != "SIGINT":
            await session.wait_idle()
            printer.say(f"stopped by {stopped_by}: 'runbook-tui resume {session.session_id}' continues it")
            return EXIT_ABORTED
        interrupted = stopped_by == "SIGINT"
        outcome = await session.finish(
            aborted=interrupted, message="interrupted with Ctrl-C" if interrupted else ""
        )
    finally:
        for signum in (signal.SIGINT, *HANG_UP_SIGNALS):
            loop.remove_signal_handler(signum)
    printer.say(f"journal: {session.journal_path}")
    if outcome is Outcome.SUCCEEDED:
        return EXIT_OK
    return EXIT_ABORTED if outcome is Outcome.ABORTED else EXIT_FAILED
