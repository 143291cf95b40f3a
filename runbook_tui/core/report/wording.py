"""The timeline's sentences: one function per kind of event worth a row.

Wording is blameless and in the past tense: what happened, not who broke it.
Functions that name a step take ``title``, which maps a step id to the title it
was started under (the id itself when it never started).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .. import events as ev
from ..durations import format_seconds
from .model import HandoffRow

Title = Callable[[str], str]


def session_started(e: ev.SessionStarted) -> str:
    runbook = e.runbook_title or e.runbook_id
    return (
        f"The {e.mode} session of “{e.procedure_title or e.procedure_id}” ({runbook}) "
        f"started, run by {e.operator or 'an unrecorded operator'}."
    )


def decision_made(e: ev.DecisionMade) -> str:
    how = "the live signal" if e.by == "signal" else "the engineer"
    then = f", which called for procedure {e.procedure_id}" if e.procedure_id else ""
    deadline = f"; its deadline was {format_seconds(e.deadline_seconds)}" if e.deadline_seconds else ""
    return f"Triage matched “{e.issue}” (row {e.row_id}) by {how}{then}{deadline}."


def parameter_set(e: ev.ParameterSet) -> str:
    shown = "a secret value (redacted)" if e.secret else f"`{e.value}`"
    return f"Parameter {e.name} was set to {shown} from the {e.source}."


def step_started(e: ev.StepStarted) -> str:
    noun = _noun(e.phase, e.title)
    again = f" (attempt {e.attempt})" if e.attempt > 1 else ""
    command = f": {_one_line(e.command)}" if e.command else "."
    return f"{noun} started{again}{command}"


def step_finished(e: ev.StepFinished, phase: str, title: str) -> str:
    """How a step (or check, by its ``phase``) ended, with its time and why."""
    noun = _noun(phase, title)
    took = format_seconds(e.duration)
    on = f" on attempt {e.attempt}" if e.attempt > 1 else ""
    code = f" (exit code {e.exit_code})" if e.exit_code not in (None, 0) else ""
    why = f": {_one_line(e.message)}" if e.message else "."
    if e.status == "passed":
        return f"{noun} passed{on} in {took}{why}"
    if e.status == "ticked":
        return f"{noun} was ticked without being done{on}{why}"
    if e.status == "failed":
        return f"{noun} failed{on} after {took}{code}{why}"
    if e.status == "cancelled":
        return f"{noun} was cancelled after {took}{why}"
    if e.status == "unknown":
        return f"{noun} ended after {took}; its effect could not be determined{why}"
    return f"{noun} ended {e.status} after {took}{why}"


def host_finished(e: ev.HostFinished, title: Title) -> str:
    detail = f" (rc {e.rc})" if e.rc is not None else ""
    return f"Host {e.host} {e.status}{detail} in “{title(e.step_id)}”."


def step_skipped(e: ev.StepSkipped, title: Title) -> str:
    return f"Step “{title(e.step_id)}” was skipped: {e.reason}"


def variable_carried(e: ev.VariableCarried) -> str:
    shown = "a secret value (redacted)" if e.redacted else e.value
    return f"{e.name} set to {shown} by step {e.step_id}"


def plan_reviewed(e: ev.PlanReviewed) -> str:
    gaps = f"; {len(e.unplanned)} thing(s) could not be planned" if e.unplanned else ""
    return f"The plan ({len(e.lines)} lines) was reviewed by {e.by or 'the engineer'}{gaps}."


def run_from(e: ev.RunFrom) -> str:
    skipped = f"; skipped over {', '.join(e.skipped)}" if e.skipped else ""
    again = f"; to run again: {', '.join(e.rerun)}" if e.rerun else ""
    return f"{e.by} chose to run from {e.step_id}{skipped}{again}."


def skipped_over(e: ev.RunFrom) -> str:
    """The reason recorded for each step a ``run_from`` skipped over."""
    return f"skipped over: {e.by} chose to run from {e.step_id}"


def retry_requested(e: ev.RetryRequested) -> str:
    return f"{e.by} retried {e.step_id} (attempt {e.attempt}) alone."


def step_interrupted(e: ev.StepInterrupted, title: Title) -> str:
    return (
        f"Step “{title(e.step_id)}” (attempt {e.attempt}) was found interrupted: "
        "the session had stopped while it ran."
    )


def step_marked_done(e: ev.StepMarkedDone, title: Title) -> str:
    return f"Step “{title(e.step_id)}” was marked done by hand: {e.note}"


def confirmation_given(e: ev.ConfirmationGiven, title: Title) -> str:
    how = " with --yes" if e.by == "--yes" else ""
    return f"The gate before “{title(e.step_id)}” was confirmed{how}: {e.message}"


def confirmation_declined(e: ev.ConfirmationDeclined, title: Title) -> str:
    return f"The gate before “{title(e.step_id)}” was declined: {e.message}"


def file_edited(e: ev.FileEdited, title: Title) -> str:
    return f"{e.path} was edited by step “{title(e.step_id)}”."


def edit_undone(e: ev.EditUndone, title: Title) -> str:
    return f"The edit of {e.path} by step “{title(e.step_id)}” was undone."


def note_added(e: ev.NoteAdded, title: Title) -> str:
    where = f" on “{title(e.step_id)}”" if e.step_id else ""
    who = f" by {e.author}" if e.author else ""
    return f"A note was added{where}{who}: {e.text}"


def milestone_reached(e: ev.MilestoneReached, title: Title) -> str:
    by = f" (step “{title(e.step_id)}”)" if e.step_id else ""
    return f"The incident was marked {e.milestone}{by}."


def window_warning(e: ev.WindowWarning) -> str:
    return f"{format_seconds(e.elapsed)} of the {_scope(e.scope)} of {format_seconds(e.target)} had passed."


def window_breached(e: ev.WindowBreached) -> str:
    return (
        f"The {_scope(e.scope)} of {format_seconds(e.target)} was exceeded "
        f"({format_seconds(e.elapsed)} had passed)."
    )


def template_filled(e: ev.TemplateFilled) -> str:
    return f"The communication template {e.template_id} was filled in."


def checklist_ticked(e: ev.ChecklistTicked) -> str:
    state = "ticked" if e.done else "unticked"
    return f"Item {e.item + 1} of checklist {e.checklist_id} was {state}."


def session_resumed(e: ev.SessionResumed) -> str:
    torn = "; the journal's torn last line had been dropped" if e.torn_tail else ""
    return f"The session was resumed by {e.operator or 'an operator'}{torn}."


def session_finished(e: ev.SessionFinished) -> str:
    why = f": {e.message}" if e.message else ""
    return f"The session finished ({e.outcome}) after {format_seconds(e.duration)}{why}"


def lock_taken_over(e: ev.LockTakenOver) -> str:
    who = f"session {e.previous_session_id or '?'} of {e.previous_operator or '?'}"
    where = f"pid {e.previous_pid} on {e.previous_host or '?'}"
    return f"The lock of {e.workdir} was taken over from {who} ({where}), whose process was gone."


def damaged_line_accepted(e: ev.DamagedLineAccepted) -> str:
    step = f" (step {e.step_id})" if e.step_id else ""
    by = e.operator or "An operator"
    return f"{by} resumed past damaged journal line {e.line}{step}, which could not be read."


def impact_started_set(e: ev.ImpactStartedSet) -> str:
    who = f" by {e.by}" if e.by else ""
    return f"The start of impact was recorded{who} as {ev.iso_utc(e.impact_started_at)[:19]}Z ({e.source})."


def action_item_added(e: ev.ActionItemAdded) -> str:
    due = f", due {e.due}" if e.due else ""
    return f"Action item for {e.owner}{due}: {e.text}"


def roles_set(roles: Mapping[str, str]) -> str:
    """The roles as set, by their titles, in role order."""
    from ..evidence import ROLE_TITLES

    said = ", ".join(f"{ROLE_TITLES.get(k, k)}: {v}" for k, v in sorted(roles.items()))
    return f"Roles were set: {said}."


def handoff_sentence(h: HandoffRow, title: Any = None) -> str:
    """ "alice handed over to bob at 03:12 UTC, step 4 running" (or "... on resume")."""
    from ..evidence import format_clock

    names = [title(s) if title else s for s in h.running]
    running = f", {', '.join(names)} running" if names else ", nothing running"
    how = " (on resume)" if h.reason == "resume" else ""
    who = h.from_operator or "an operator"
    return f"{who} handed over to {h.to_operator} at {format_clock(h.at)} UTC{how}{running}."


def _noun(phase: str, title: str) -> str:
    if phase == "precheck":
        return f"The pre-check “{title}”"
    if phase == "verification":
        return f"The verification check “{title}”"
    return f"Step “{title}”"


def _scope(scope: str) -> str:
    return "recovery window" if scope == "procedure" else f"deadline of decision row {scope}"


def _one_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return " ⏎ ".join(lines)
