"""The session's events coming in: output lines batched to the panes, the rest as messages.

The engine calls :meth:`OutputFeed.on_engine_event` in the event loop for every event.
An output line only waits in the output buffer (``output.py``); every 50 ms, or as soon
as the stream goes quiet, the waiting lines are flushed into the log and watch panes
(one refresh for thousands of lines). Every other event becomes a :class:`SessionEvent`
message, which the screen routes to its parts. The note under the log (how many lines,
following or paused, where the full output is) is the feed's too: it counts what came.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from textual.content import Content

from ....core import events as ev
from ....core.journal.fold import StepState
from ....core.model import Step
from ...messages import SessionEvent

if TYPE_CHECKING:
    from .screen import ProcedureScreen

FLUSH_SECONDS = 0.05
# No output for this long: the stream stopped (or paused), so its last lines show at once
# instead of waiting for the log pane's refresh budget.
QUIET_SECONDS = 0.015
# While output floods, the "N lines" note under the log is rewritten at most this often.
NOTE_SECONDS = 1.0


class OutputFeed:
    """From the engine's listener call to the panes (the screen owns one)."""

    def __init__(self, screen: ProcedureScreen) -> None:
        self.screen = screen
        self.buffer = screen.buffer
        self._quiet_mark = -1  # lines seen when the quiet check last looked
        self._quiet: asyncio.TimerHandle | None = None
        self._note_at = 0.0

    def on_engine_event(self, event: ev.Event) -> None:
        """The session's listener. Runs in the event loop, called by the engine: keep it tiny."""
        if type(event) is ev.OutputLine:
            self.buffer.pending.append(event)
            if self._quiet is None:  # per line only this check: a flood is millions of lines
                self._quiet = asyncio.get_running_loop().call_later(QUIET_SECONDS, self._quiet_check)
            return
        if isinstance(event, ev.StepStarted):
            # In order with the output: earlier lines belong to the previous attempt.
            self.flush()
            self.buffer.restart(event.step_id)
        self.screen.post_message(SessionEvent(event))

    def _quiet_check(self) -> None:
        """The stream went quiet: its last lines go on screen now, past the refresh budget."""
        # Lines still arriving since the last look: look again later (the stream goes on).
        arrived = self.buffer.seen + len(self.buffer.pending)
        if arrived != self._quiet_mark:
            self._quiet_mark = arrived
            self._quiet = asyncio.get_running_loop().call_later(QUIET_SECONDS, self._quiet_check)
            return
        self._quiet = None
        screen = self.screen
        if not screen.is_attached:
            return
        self.flush()
        screen.log_pane.view.flush()
        screen.watch_pane.view.flush()
        self.update_note(force=True)

    def flush(self) -> None:
        """Move buffered output lines into the step buffers and the visible panes."""
        if not self.buffer.pending:
            return
        screen = self.screen
        to_log, to_watch = self.buffer.flush(screen.selected_id, screen.watch_step)
        if to_log:
            screen.log_pane.view.write_lines(to_log)
            self.update_note()
        if to_watch:
            screen.watch_pane.view.write_lines(to_watch)

    def update_note(self, *, force: bool = False) -> None:
        """The line count under the log: at most once a second while output floods."""
        now = time.monotonic()
        step = self.screen.selected
        if step is None or (not force and now - self._note_at < NOTE_SECONDS):
            return
        self._note_at = now
        self.screen.log_pane.note(self.log_note(step, self.screen.state.step(step.id)))

    def log_note(self, step: Step, st: StepState) -> Content:
        """The note under the log: lines, following or paused, matches, where the rest is."""
        screen = self.screen
        log = screen.log_pane.view
        follow = "following" if log.follow else "paused (f follows)"
        journal = screen.session.journal_path if screen.session is not None else None
        where = f"full output in journal {journal}" if journal else "full output is in the journal"
        if log.match_count:
            where = f"{log.match_count} matches ([ ] move) · " + where
        lines = max(st.output_lines, len(self.buffer.lines.get(step.id, ())))
        uses = self._carried_note(step.id)
        return Content(f"{uses}{lines} lines · {follow} · {where}").stylize("$text-muted")

    def _carried_note(self, step_id: str) -> str:
        """``uses TARGET_VERSION=v1.2.3 from step 2 · `` for carried values the step reads."""
        session = self.screen.session
        if session is None:
            return ""
        numbers = self.screen.step_list.numbers
        used = session.carried_used(step_id)
        return "".join(f"uses {n}={v} from step {numbers.get(by, by)} · " for n, v, by in used)
