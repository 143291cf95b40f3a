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
import getpass
import io
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .. import __version__
from . import events as ev
from . import preflight
from .ansi import inert
from .asker import ConfirmRequest, ManualAnswer
from .durations import format_seconds
from .engine import Session, check_params, default_operator
from .errors import UsageError
from .events import Outcome, StepStatus
from .model import Parameter, Procedure, Runbook, Step
from .param_sources import GivenParams, secret_ways_in
from .worklock import lock_new_journal

if TYPE_CHECKING:
    from .drills.sandbox import Sandbox

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ABORTED = 0, 1, 2, 130
# The terminal went away (SSH drop) or the process is told to stop: leave the session open.
HANG_UP_SIGNALS = (signal.SIGHUP, signal.SIGTERM)
MAX_SHOWN_CHOICES = 20


# --- printing -------------------------------------------------------------------


class _LocalClock:
    """``09:13:14.123+01:00`` in the engineer's zone; the zone part is reused within a second."""

    def __init__(self) -> None:
        self._second: int | None = None
        self._prefix = ("", "")

    def __call__(self, at: float) -> str:
        second = int(at)
        if second != self._second:
            local = datetime.fromtimestamp(second).astimezone()
            offset = local.strftime("%z")
            self._prefix = (local.strftime("%H:%M:%S"), f"{offset[:3]}:{offset[3:]}")
            self._second = second
        millis = int((at - second) * 1000)
        return f"{self._prefix[0]}.{millis:03d}{self._prefix[1]}"


def local_datetime(at: float) -> str:
    """``2026-11-23 10:13:14+01:00 (09:13:14Z)``: local time with its offset, and UTC."""
    local = datetime.fromtimestamp(at).astimezone()
    return f"{local.isoformat(sep=' ', timespec='seconds')} ({ev.iso_utc(at)[11:19]}Z)"


class Printer:
    """Turns events into lines: local time, kind, step, message; output prefixed by step and stream."""

    def __init__(self, out: TextIO, *, tty: bool) -> None:
        self._out = out
        self._tty = tty
        # SGR colour reaches a terminal unless NO_COLOR says not (https://no-color.org);
        # every other control sequence from a step is printed as visible text.
        self._colour = tty and not os.environ.get("NO_COLOR")
        self._clock = _LocalClock()
        # The lines of one chunk share their time, step and stream: their prefix is built once.
        self._prefix_of: tuple[float, str, str] | None = None
        self._prefix = ""

    def __call__(self, event: ev.Event) -> None:
        if type(event) is ev.OutputLine:
            key = (event.at, event.step_id, event.stream)
            if key != self._prefix_of:
                self._prefix_of = key
                self._prefix = f"{self._clock(event.at)} {event.step_id} {event.stream}| "
            text = event.ansi or event.text
            if not text.isprintable():  # tab, colour or a control sequence: make it inert
                text = inert(text, colour=self._colour)
            self._out.write(f"{self._prefix}{text}\n")
            if self._tty:
                self._out.flush()
            return
        step = getattr(event, "step_id", None) or "-"
        lines = [inert(line, colour=False) for line in describe(event).split("\n")]
        self._out.write(f"{self._clock(event.at)} {event.kind:<21} {step:<16} {lines[0]}\n")
        for extra in lines[1:]:
            self._out.write(f"{'':>40}{extra}\n")
        self._out.flush()

    def say(self, text: str) -> None:
        """A line from the runner itself (not an event)."""
        shown = "\n".join(inert(line, colour=False) for line in text.split("\n"))
        self._out.write(f"{shown}\n")
        self._out.flush()

    def silence(self) -> None:
        """The terminal is gone: writing to it would fail (EIO), so print nothing more."""
        self._out = io.StringIO()
        self._tty = self._colour = False


def _seconds(value: float | None) -> str:
    return format_seconds(value) if value is not None else "?"


def describe(event: ev.Event) -> str:
    """The message part of an event's line (may span lines, e.g. a diff)."""
    fn = _DESCRIBE.get(type(event))
    return fn(event) if fn is not None else ""


def _started(e: Any) -> str:
    window = f"; recovery window {e.window_text}" if e.window_text else ""
    return (
        f"{e.runbook_title} / {e.procedure_title} ({e.mode}) by {e.operator}, "
        f"at {local_datetime(e.at)}{window}; workdir {e.workdir}"
    )


def _step_started(e: Any) -> str:
    attempt = f" (attempt {e.attempt})" if e.attempt > 1 else ""
    command = f": {e.command}" if e.command and e.command != e.title else ""
    return f"[{e.phase}] {e.title}{attempt}{command}"


def _step_finished(e: Any) -> str:
    exit_code = f" (exit {e.exit_code})" if e.exit_code is not None and e.status != "passed" else ""
    message = f": {e.message}" if e.message else ""
    return f"{e.status.upper()} after {_seconds(e.duration)}{exit_code}{message}"


def _file_edited(e: Any) -> str:
    return f"{e.path} edited (backup {e.backup})\n" + e.diff.rstrip("\n")


_DESCRIBE: dict[type[ev.Event], Callable[[Any], str]] = {
    ev.SessionStarted: _started,
    ev.ParameterSet: lambda e: f"{e.name} = {e.value} ({e.source})",
    ev.DecisionMade: lambda e: f"{e.row_id}: {e.issue} -> {e.procedure_id or 'no procedure'} (by {e.by})",
    ev.StepStarted: _step_started,
    ev.StepFinished: _step_finished,
    ev.StepSkipped: lambda e: f"skipped: {e.reason}",
    ev.StepInterrupted: lambda e: "interrupted: the session ended while it ran",
    ev.StepMarkedDone: lambda e: f"marked done: {e.note}",
    ev.ConfirmationGiven: lambda e: f"confirmed by {e.by}: {e.message}",
    ev.ConfirmationDeclined: lambda e: f"not confirmed: {e.message}",
    ev.FileEdited: _file_edited,
    ev.EditUndone: lambda e: f"{e.path} restored from its backup",
    ev.NoteAdded: lambda e: f"note{' by ' + e.author if e.author else ''}: {e.text}",
    ev.MilestoneReached: lambda e: f"milestone: {e.milestone}",
    ev.WindowWarning: lambda e: f"{e.scope}: {_seconds(e.elapsed)} of the {_seconds(e.target)} window used",
    ev.WindowBreached: lambda e: (
        f"{e.scope}: the {_seconds(e.target)} window is over ({_seconds(e.elapsed)})"
    ),
    ev.TemplateFilled: lambda e: f"template {e.template_id} filled",
    ev.ChecklistTicked: lambda e: f"{e.checklist_id} item {e.item + 1} {'ticked' if e.done else 'unticked'}",
    ev.SessionResumed: lambda e: (
        f"resumed by {e.operator}" + (" (journal tail was torn)" if e.torn_tail else "")
    ),
    ev.PreflightChecked: lambda e: (
        f"pre-flight: {len(e.findings)} finding(s) {'accepted' if e.accepted else 'refused'} by {e.by}"
    ),
    ev.SessionFinished: lambda e: (
        f"{e.outcome.upper()} after {_seconds(e.duration)}" + (f": {e.message}" if e.message else "")
    ),
    ev.LockTakenOver: lambda e: (
        f"took over the lock of {e.workdir}: session {e.previous_session_id or '?'} of "
        f"{e.previous_operator or '?'} (pid {e.previous_pid} on {e.previous_host or '?'}) is gone"
    ),
    ev.DamagedLineAccepted: lambda e: (
        f"resuming past damaged journal line {e.line}" + (f" (step {e.step_id})" if e.step_id else "")
    ),
    ev.EditReconciled: lambda e: (
        f"{e.path}: planned edit checked against the file: {e.found.replace('_', ' ')}"
    ),
    ev.HostStarted: lambda e: f"{e.host}: started (batch {e.batch})",
    ev.HostFinished: lambda e: (
        f"{e.host}: {e.status} after {_seconds(e.duration)}"
        + (f" (rc {e.rc})" if e.rc is not None else "")
        + (f": {e.message}" if e.message and e.status != "ok" else "")
    ),
    ev.VariableCarried: lambda e: f"{e.name} set to {e.value} for later steps",
    ev.PlanReviewed: lambda e: f"plan of {len(e.lines)} lines reviewed by {e.by}",
    ev.RunFrom: lambda e: (
        f"{e.by} chose to run from {e.step_id}; skipped over {', '.join(e.skipped) or 'nothing'}"
    ),
    ev.RetryRequested: lambda e: f"{e.by} retries {e.step_id} alone (attempt {e.attempt})",
    # Issue 17: the record as evidence.
    ev.ImpactStartedSet: lambda e: f"impact started at {local_datetime(e.impact_started_at)} ({e.source})",
    ev.ActionItemAdded: lambda e: (
        f"action item for {e.owner}" + (f", due {e.due}" if e.due else "") + f": {e.text}"
    ),
    ev.RolesSet: lambda e: "roles: " + ", ".join(f"{k}={v}" for k, v in sorted(e.roles.items())),
    ev.Handoff: lambda e: (
        f"{e.from_operator} handed over to {e.to_operator}"
        + (f", {', '.join(e.running)} running" if e.running else "")
    ),
}


# --- asking -----------------------------------------------------------------------


async def ask_line(prompt: str, *, secret: bool = False) -> str | None:
    """Read one line from the terminal without blocking the event loop; None at end of input."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str | None] = loop.create_future()

    def deliver(value: str | None) -> None:
        if not answer.done():
            answer.set_result(value)

    def read() -> None:
        try:
            value: str | None = getpass.getpass(prompt) if secret else input(prompt)
        except (EOFError, OSError):
            value = None
        loop.call_soon_threadsafe(deliver, value)

    # A daemon thread: a prompt abandoned by Ctrl-C must not keep the process alive.
    threading.Thread(target=read, name="plain-input", daemon=True).start()
    return await answer


class PlainAsker:
    """Asks on the terminal; ``yes`` confirms every gate (recorded as ``--yes``)."""

    def __init__(self, printer: Printer, *, interactive: bool, yes: bool) -> None:
        self._printer = printer
        self._interactive = interactive
        self._yes = yes
        self.by = "--yes" if yes else "engineer"

    @property
    def interactive(self) -> bool:
        return self._interactive

    @property
    def yes(self) -> bool:
        return self._yes

    async def confirm(self, request: ConfirmRequest) -> bool:
        """Yes with ``--yes``; otherwise ask, or fail closed without a terminal."""
        if self._yes:
            return True
        say = self._printer.say
        if not self._interactive:
            say(f"gate on step {request.step.id}: {request.message}")
            say("  not confirmed: there is no terminal to ask; pass --yes to confirm every gate")
            return False
        if request.diff:
            say(request.diff.rstrip("\n"))
        answer = await ask_line(f"{request.message}\nGo ahead with {request.step.id}? [y/N] ")
        return (answer or "").strip().lower() in ("y", "yes")

    async def parameter(self, param: Parameter, choices: list[str]) -> str | None:
        """Ask for a value (a number picks a choice); without a terminal say how to pass it."""
        say = self._printer.say
        if not self._interactive:
            default = f" (using its default {param.default!r})" if param.default is not None else ""
            how = secret_ways_in(param.name) if param.secret else f"pass --param {param.name}=VALUE"
            say(f"parameter {param.name} has no value and there is no terminal to ask{default}; {how}")
            return None
        say(
            f"parameter {param.name}: {param.description}" if param.description else f"parameter {param.name}"
        )
        for number, choice in enumerate(choices[:MAX_SHOWN_CHOICES], start=1):
            say(f"  {number}. {choice}")
        offered = param.default if param.default is not None else param.suggestion
        default = f" [{offered}]" if offered is not None else ""
        answer = await ask_line(f"{param.name}{default}: ", secret=param.secret)
        text = (answer or "").strip()
        if text.isdigit() and 1 <= int(text) <= min(len(choices), MAX_SHOWN_CHOICES):
            return choices[int(text) - 1]
        # Enter takes the suggestion the engineer was shown; a run without a terminal never does.
        return text or param.suggestion or None

    async def manual(self, step: Step) -> ManualAnswer:
        """Ask whether the manual step is done, and for a note."""
        if self._yes:
            return ManualAnswer(True)  # StepFinished says "ticked by --yes"
        say = self._printer.say
        instructions = getattr(step.spec, "instructions", "") or step.description
        if not self._interactive:
            say(f"manual step {step.id}: {step.title}")
            say("  not ticked: there is no terminal to ask; pass --yes to tick manual steps")
            return ManualAnswer(False)
        say(f"manual step {step.id}: {step.title}")
        if instructions:
            say(instructions.rstrip("\n"))
        done = (await ask_line("Done? [y/N] ") or "").strip().lower() in ("y", "yes")
        note = (await ask_line("Note (optional): ") or "").strip()
        return ManualAnswer(done, note)


# --- running --------------------------------------------------------------------------


def parse_params(pairs: Sequence[str], runbook: Runbook) -> dict[str, str]:
    """``--param K=V`` values, validated (UsageError or ParameterError, both exit 2); no secrets."""
    from .param_sources import command_line_params

    return command_line_params(runbook, pairs)


def given_params(args: argparse.Namespace, runbook: Runbook) -> GivenParams:
    """Values from ``--param``, ``--param-file`` and ``RUNBOOK_TUI_PARAM_<name>``, validated."""
    from .param_sources import gather

    return gather(runbook, getattr(args, "param", None) or [], getattr(args, "param_file", None))


def _warn_secret_arguments(runbook: Runbook) -> None:
    """Say, before anything runs, where a command hands a secret to a program as an argument."""
    from .secret_args import secret_argument_warnings

    for _step, text in secret_argument_warnings(runbook.procedures, runbook.parameters):
        print(f"runbook-tui: warning: {text}", file=sys.stderr)


def _interactive() -> bool:
    return sys.stdin.isatty()


def _resolve(ref: str, extra_dirs: Sequence[str]) -> Runbook:
    from .library import resolve_runbook

    return resolve_runbook(ref, [Path(d) for d in extra_dirs])


def run(args: argparse.Namespace) -> int:
    """``runbook-tui run RUNBOOK PROCEDURE --plain``: run the procedure headless; the exit code."""
    runbook = _resolve(args.runbook, getattr(args, "runbooks", []) or [])
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
            watch_limit=sandbox.watch_limit,
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
    from . import plan as planning

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
    from .evidence import parse_impact_time, parse_roles

    text = getattr(args, "impact_started", None)
    impact = parse_impact_time(text, time.time()) if text else None
    return impact, parse_roles(list(getattr(args, "role", None) or []))


def _build_sandbox(runbook: Runbook, fault: str | None) -> Sandbox:
    from .drills import build_sandbox  # only drills pay for importing the sandbox machinery

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
    watch_limit: float | None = None,
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
            watch_limit=watch_limit,
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
