"""What the screens use of a session: the line between the UI and the engine.

The run screen, the summary, the templates and the record prompts know a session only
through these two protocols, never through the engine's classes:

- :class:`SessionView` is what is shown: the state (a fold over the events), the events
  as they come, and the journal. A follower (``core/follow.py``'s ``FollowedSession``,
  read-only) offers exactly this, so it sits in the run screen's session slot.
- :class:`SessionControl` adds the engineer's intents (run, skip, note, end, ...). The
  engine's ``Session`` offers it.

Both are checked by mypy (structural typing), not at run time: see the check at the
end of this module.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from . import events as ev
from .events import Outcome, StepStatus
from .journal.fold import SessionState
from .preflight import Finding


class SessionView(Protocol):
    """A session as the screens show it: state, events, journal. No intent."""

    @property
    def state(self) -> SessionState:
        """The session so far (a fold over its events)."""

    @property
    def session_id(self) -> str:
        """The session's id (its journal's name)."""

    @property
    def journal_path(self) -> Path | None:
        """Where the journal is (None when the session keeps none)."""

    @property
    def warnings(self) -> Sequence[str]:
        """What to tell the engineer on opening it (a changed runbook on resume, ...)."""

    def subscribe(self, listener: Callable[[ev.Event], None], /) -> object:
        """Call ``listener`` with every event from now on, in order."""

    async def start(self) -> None:
        """Start (a live session: record its start; a follower: start tailing)."""

    def close(self) -> None:
        """Stop without recording an end (a live session stays resumable)."""

    def carried_used(self, step_id: str, /) -> list[tuple[str, str, str]]:
        """The carried values ``step_id`` reads: (name, value, the step that set it)."""


class SessionControl(SessionView, Protocol):
    """A session the engineer acts on: the view plus every intent the screens send."""

    @property
    def workdir(self) -> Path:
        """Where commands run."""

    @property
    def env(self) -> Mapping[str, str]:
        """The steps' environment."""

    # --- start and end ----------------------------------------------------

    def preflight(self) -> Sequence[Finding]:
        """What is missing here before the first step."""

    def record_preflight(self, findings: Iterable[Finding], *, accepted: bool, by: str) -> None:
        """Journal the pre-flight findings and the engineer's answer."""

    def decide(self, row_id: str, by: str = "engineer") -> None:
        """Journal the decision-matrix row that chose this procedure."""

    async def finish(
        self, *, aborted: bool = False, cancel_background: bool = False, message: str = ""
    ) -> Outcome:
        """Record how the session ended."""

    def hang_up(self, why: str = "the terminal hung up") -> None:
        """Stop what runs, unrecorded, leaving the session to ``resume``."""

    async def wait_idle(self) -> None:
        """Return once nothing runs."""

    # --- running steps ----------------------------------------------------

    async def run_step(self, step_id: str) -> StepStatus:
        """Run one step."""

    def run_in_background(self, step_id: str) -> asyncio.Task[StepStatus]:
        """Run a (watch) step while others go on."""

    async def run_all(self, stop_on_failure: bool = True) -> bool:
        """Run every pending step in order."""

    async def retry(self, step_id: str, by: str | None = None) -> StepStatus:
        """Journal a retry of a failed step, then run it again."""

    def run_from(self, step_id: str, by: str | None = None) -> tuple[list[str], list[str]]:
        """Skip over the earlier steps not done: (skipped, to run again)."""

    def cancel(self, step_id: str) -> bool:
        """Cancel a running step."""

    # --- the record -------------------------------------------------------

    def redact(self, text: str) -> str:
        """``text`` with the session's secret values hidden."""

    def skip(self, step_id: str, reason: str) -> None:
        """Skip a step that has not run, with a reason."""

    def note(self, text: str, step_id: str | None = None, *, author: str | None = None) -> None:
        """Add a note to the session or to a step."""

    def mark_done(self, step_id: str, note: str) -> None:
        """Declare a step done by hand, saying what was done."""

    def undo_edit(self, step_id: str) -> str:
        """Restore a step's edited file from its backup."""

    def record_plan(self, lines: Iterable[str], unplanned: Iterable[str], *, by: str) -> None:
        """Journal the plan the engineer saw before running."""

    def param_values(self) -> dict[str, str]:
        """The parameters known so far."""

    def fill_template(self, template_id: str, text: str) -> None:
        """Save a filled communication template into the session."""

    def set_impact_started(self, at: float, source: str = "engineer") -> None:
        """Record (or correct) when the impact started."""

    def add_action_item(
        self, text: str, owner: str, due: str = "", step_id: str | None = None, *, author: str | None = None
    ) -> None:
        """Record a follow-up with an owner."""

    def set_roles(self, roles: Mapping[str, str]) -> None:
        """Record who holds which incident role."""

    def handoff(self, to_operator: str, reason: str = "handoff") -> None:
        """Hand the session over to someone."""


if TYPE_CHECKING:
    # The check that the engine and the follower keep to the line (mypy, never at run time):
    # a change to either that breaks what the screens use fails here, not in a screen.
    from .engine import Session
    from .follow import FollowedSession

    def _engine_session_is_a_control(session: Session) -> SessionControl:
        return session

    def _followed_session_is_a_view(followed: FollowedSession) -> SessionView:
        return followed
