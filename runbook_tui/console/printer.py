"""The console's printer: one line per event (local time, kind, step, message), output inert.

``run --plain``, ``resume --plain`` and ``follow --plain`` print through it. A
step's output never drives the terminal: SGR colour passes on a tty without
``NO_COLOR``, every other control is shown as text (``core.ansi.inert``).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from datetime import datetime
from typing import Any, TextIO

from ..core import events as ev
from ..core.ansi import inert
from ..core.durations import format_seconds


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
