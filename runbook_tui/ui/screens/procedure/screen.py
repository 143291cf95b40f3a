"""The run: the checklist on the left, the selected step and its live log on the right.

The screen composes its parts and routes what happens to them; each concern is a module:

- ``feed.py`` (:class:`OutputFeed`): the session's events coming in. Output lines are
  batched and flushed to the log panes every 50 ms; every other event becomes a
  :class:`SessionEvent` message, which this screen routes to the checklist
  (``StepList``), the clock, and the step detail (``step_detail.py``) with its log pane
  (``log_pane.py``) and watch pane (``watch_pane.py``).
- ``intents.py`` (:class:`Intents`): the engineer's intents (run, skip, note, undo, ...),
  asked with a modal and sent to the session.
- ``lifecycle.py`` (:class:`Lifecycle`): start, pre-flight, resume, end, quit, left open.

The keys are declared here, where the footer and the command palette find them; each
action is one line calling the part that handles it. What is shown is read from
``session.state`` (a fold over the events). The screen knows the session only as a
``SessionView`` (what a follower offers too) and, unless read-only, a ``SessionControl``
(``core/session_view.py``). A resumed session arrives already built (see ``resume.py``).
"""

from __future__ import annotations

from collections import deque
from pathlib import PurePath
from typing import ClassVar, Literal, cast, overload

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.events import Resize
from textual.widgets import Input, OptionList

from ....core import events as ev
from ....core.durations import format_seconds
from ....core.events import StepStatus
from ....core.journal.fold import SessionState
from ....core.model import DecisionRow, Procedure, Runbook, Step, StepKind
from ....core.session_view import SessionControl, SessionView
from ...format import LABEL
from ...messages import RunEnded, SessionEvent
from ...widgets.clock import Countdown, RecoveryClock
from ...widgets.host_grid import HostGrid
from ...widgets.log_view import LogView
from ...widgets.step_list import StepList
from ..base import BaseScreen
from .checklist import Checklist
from .feed import FLUSH_SECONDS, OutputFeed
from .intents import Intents
from .lifecycle import Lifecycle
from .log_pane import LogPane
from .output import OutputBuffer
from .step_detail import StepDetail, planned
from .watch_pane import WatchPane

# What a follower (``runbook-tui follow``, read-only) is not offered: every action that acts.
INTENT_ACTIONS = frozenset(
    {"run_step", "run_all", "skip", "note", "cancel", "undo", "mark_done", "end", "templates", "plan"}
    | {"run_from", "evidence"}
)


class ProcedureScreen(BaseScreen):
    """Run a procedure step by step; nothing runs until the engineer asks."""

    # The screen's layout, then each part's own styles.
    CSS_PATH: ClassVar[list[str | PurePath]] = [
        "procedure.tcss",
        "checklist.tcss",
        "step_detail.tcss",
        "log_pane.tcss",
        "watch_pane.tcss",
        "../../widgets/host_grid.tcss",
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run_step", "Run", tooltip="Run the selected step", id="run.step"),
        Binding("a", "run_all", "All", tooltip="Run every pending step in order", id="run.all"),
        Binding("s", "skip", "Skip", tooltip="Skip the selected step (a reason is asked)", id="run.skip"),
        Binding("n", "note", "Note", tooltip="Add a note to the selected step", id="run.note"),
        Binding("c", "cancel", "Cancel", tooltip="Cancel the running step", id="run.cancel"),
        Binding("u", "undo", "Undo", tooltip="Undo the selected step's file edit", id="run.undo"),
        Binding("m", "mark_done", "Done", tooltip="Mark the step done, with a note", id="run.mark_done"),
        Binding("slash", "search", "Find", tooltip="Search the log", id="run.search"),
        Binding("right_square_bracket", "next_match", "Next match", show=False, id="run.next_match"),
        Binding("left_square_bracket", "prev_match", "Prev match", show=False, id="run.prev_match"),
        Binding("f", "follow", "Follow", show=False, id="run.follow"),
        Binding("l", "focus_log", "Log", show=False, id="run.focus_log"),
        Binding("v", "view_command", "Command", show=False, id="run.view_command"),
        Binding("w", "focus_watch", "Watch pane", show=False, id="run.focus_watch"),
        Binding("h", "focus_hosts", "Hosts", show=False, tooltip="Fleet hosts", id="run.focus_hosts"),
        Binding("e", "end", "End", tooltip="End the session (recorded)", id="run.end"),
        # Last and short: at 80 columns the footer cuts from the right, and End matters more.
        Binding("t", "templates", "Msg", tooltip="Communication templates, filled", id="run.templates"),
        Binding("p", "plan", "Plan", tooltip="What the procedure would do, changing nothing", id="run.plan"),
        Binding(
            "F", "run_from", "From", show=False, tooltip="Run again from the selected step", id="run.from"
        ),
        Binding("escape", "back", "Back", show=False, id="run.back"),
        # The record (issue 17): off the footer, in the keys panel (F1).
        Binding("A", "evidence('action')", "Action item", show=False, id="run.action_item"),
        Binding("R", "evidence('roles')", "Roles", show=False, id="run.roles"),
        Binding("H", "evidence('handoff')", "Hand over", show=False, id="run.handoff"),
        Binding("I", "evidence('impact')", "Impact start", show=False, id="run.impact"),
    ]

    @overload
    def __init__(
        self,
        runbook: Runbook,
        procedure: Procedure,
        *,
        decision: DecisionRow | None = None,
        session: SessionControl | None = None,
        first_step_at: float | None = None,
        read_only: Literal[False] = False,
    ) -> None: ...

    @overload
    def __init__(
        self,
        runbook: Runbook,
        procedure: Procedure,
        *,
        decision: DecisionRow | None = None,
        session: SessionView,
        first_step_at: float | None = None,
        read_only: Literal[True],
    ) -> None: ...

    def __init__(
        self,
        runbook: Runbook,
        procedure: Procedure,
        *,
        decision: DecisionRow | None = None,
        session: SessionView | None = None,
        first_step_at: float | None = None,
        read_only: bool = False,
    ) -> None:
        super().__init__()
        # A followed session (core/follow.py): shown as it runs elsewhere; no intent is offered.
        self.read_only = read_only
        self.runbook = runbook
        self.procedure = procedure
        self.decision = decision
        self.crumbs = f"{runbook.id} › {procedure.title}"
        self.session: SessionView | None = session  # given (a resume, a follower), else built by lifecycle.py
        # The same session, to act on; None when read-only (the overloads above say which is given).
        self.control: SessionControl | None = None if read_only else cast("SessionControl | None", session)
        self.resumed = session is not None
        self.first_step_at = first_step_at  # when the first step started (the clock runs from session start)
        self.steps = {s.id: s for s in procedure.all_steps()}
        self.buffer = OutputBuffer()
        self.watch_step: str | None = None  # the step whose lines go to the watch pane
        self.events: list[ev.Event] = []  # every non-output event seen, for tests and the summary
        self.feed = OutputFeed(self)
        self.intents = Intents(self)
        self.lifecycle = Lifecycle(self)

    # --- layout ---------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield RecoveryClock(self.rb_app.clock, id="clock")
        app = self.rb_app
        with Horizontal(id="run-body"):
            yield Checklist(self.procedure, id="checklist-box")
            yield StepDetail(
                refresh_rate=app.refresh_rate, low_bandwidth=app.options.low_bandwidth, id="detail-box"
            )
        yield from self.compose_footer()

    @property
    def clock(self) -> RecoveryClock:
        """The recovery clock above the run (windows and deadlines)."""
        return self.query_one("#clock", RecoveryClock)

    @property
    def checklist(self) -> Checklist:
        """The box on the left: the step list, the mode and the window."""
        return self.query_one("#checklist-box", Checklist)

    @property
    def step_list(self) -> StepList:
        """The checklist's steps."""
        return self.checklist.step_list

    @property
    def detail(self) -> StepDetail:
        """The selected step's box."""
        return self.query_one("#detail-box", StepDetail)

    @property
    def log_pane(self) -> LogPane:
        """The selected step's log, search bar and note."""
        return self.detail.log_pane

    @property
    def watch_pane(self) -> WatchPane:
        """The watch step's pane."""
        return self.detail.watch_pane

    @property
    def output(self) -> dict[str, deque[str]]:
        """Each step's kept lines (the output buffer's)."""
        return self.buffer.lines

    @property
    def host_filter(self) -> str | None:
        """A fleet step's host whose lines the log shows (None: every host)."""
        return self.buffer.host_filter

    def on_mount(self) -> None:
        super().on_mount()
        self.clock.target = self.procedure.target_seconds
        self.step_list.focus()
        self.set_interval(FLUSH_SECONDS, self.feed.flush)
        self.show_selected()
        self.lifecycle.start()

    def on_unmount(self) -> None:
        self.lifecycle.unmounted()

    # --- the session ----------------------------------------------------

    @property
    def state(self) -> SessionState:
        """The session's state (a fold over its events)."""
        return self.session.state if self.session is not None else SessionState()

    @property
    def running(self) -> list[str]:
        """Steps running now, per the session state."""
        return self.state.running() if self.session is not None else []

    @property
    def has_running_work(self) -> bool:
        """A step is running, or a run worker is still going."""
        return bool(self.running) or self.intents.busy

    async def confirm_quit(self) -> None:
        """Called by the app's quit: a step is running, so ask: leave the session open, abort, or stay."""
        await self.lifecycle.confirm_quit()

    @on(SessionEvent)
    def _session_event(self, message: SessionEvent) -> None:
        self.feed.flush()
        event = message.event
        self.events.append(event)
        state = self.state
        step_id = getattr(event, "step_id", None)
        if step_id is not None and step_id in self.steps:
            self.step_list.show_state(state.step(step_id))
        if isinstance(event, ev.SessionStarted):
            clock = self.clock
            clock.session_started = event.at
            # One clock (core/engine/windows.py): the window runs from the session's start, as in the engine.
            clock.procedure = Countdown("procedure", "window", event.at, self.procedure.target_seconds or 0.0)
            self.checklist.show_mode(event.mode)
        elif isinstance(event, ev.DecisionMade) and event.deadline_seconds:
            clock = self.clock
            origin = state.started_at if state.started_at is not None else event.at
            clock.deadlines = (Countdown(event.row_id, "decide", origin, event.deadline_seconds),)
        elif isinstance(event, ev.WindowWarning | ev.WindowBreached):
            lvl = "breach" if isinstance(event, ev.WindowBreached) else "warning"
            self.clock.crossed(event.scope, lvl, event.elapsed, event.target)
        elif isinstance(event, ev.StepStarted):
            self._step_started(event)
        elif isinstance(event, ev.StepFinished):
            self._step_finished(event)
            # No more lines will come: the last ones go on screen now, past the budget.
            self.log_pane.view.flush()
        elif isinstance(event, ev.FileEdited):
            self.notify(f"{event.path} edited; u undoes it.", title=self.steps[event.step_id].title)
        elif isinstance(event, ev.EditUndone):
            self.notify(f"{event.path} restored from its backup.", title="Edit undone")
        elif isinstance(event, ev.SessionFinished):
            self.lifecycle.session_finished(event)
        if isinstance(event, ev.StepFinished) and step_id == self.selected_id:
            # The last lines first, in a frame of their own; the title, state and note
            # (a relayout of the detail) in the next one.
            self.call_after_refresh(self.show_selected)
        elif step_id is None or step_id == self.selected_id:
            self.show_selected()

    def _step_started(self, event: ev.StepStarted) -> None:
        if event.step_kind == StepKind.WATCH:
            self.watch_step = event.step_id
            self.watch_pane.show_watch(event.title, list(self.output.get(event.step_id, ())))
        elif self.selected_id == event.step_id:
            self.show_log()
        else:
            self.step_list.select_step(event.step_id)

    def _step_finished(self, event: ev.StepFinished) -> None:
        title = self.steps[event.step_id].title if event.step_id in self.steps else event.step_id
        status = StepStatus(event.status)
        if event.step_id == self.watch_step:
            self.watch_pane.show_finished(title, LABEL[status])
        if status is StepStatus.FAILED:
            self.notify(event.message or "failed", title=f"✘ {title}", severity="error", timeout=10)

    @on(RecoveryClock.Crossed)
    def _window_crossed(self, message: RecoveryClock.Crossed) -> None:
        what = "The recovery window" if message.scope == "procedure" else "The decision deadline"
        spent = f"{format_seconds(message.elapsed)} of {format_seconds(message.target)}"
        if message.level == "warning":
            self.notify(f"{what} is 80% gone ({spent}).", title="Clock", severity="warning", timeout=10)
        else:
            self.notify(f"{what} is breached ({spent}).", title="Clock", severity="error", timeout=15)

    @on(RunEnded)
    def _run_ended(self, message: RunEnded) -> None:
        if message.error:
            self.notify(message.error, title="Could not run", severity="error", timeout=10)
        self.show_selected()

    # --- the selected step ----------------------------------------------

    @property
    def selected_id(self) -> str | None:
        step = self.step_list.selected_step
        return step.id if step else None

    @property
    def selected(self) -> Step | None:
        return self.step_list.selected_step

    @on(OptionList.OptionHighlighted, "#steps")
    def _highlighted(self) -> None:
        self.buffer.host_filter = None  # another step: every host's lines
        self.show_log()
        self.show_selected()

    def show_log(self) -> None:
        """Fill the log pane from the selected step's kept lines."""
        self.feed.flush()
        step_id = self.selected_id
        streaming = step_id is not None and self.state.step(step_id).status is StepStatus.RUNNING
        # The engineer chose this step: shown now, not on the budget.
        self.log_pane.show(self.buffer.shown_lines(step_id), streaming=streaming)

    @on(OptionList.OptionSelected, "#steps")
    def _chosen(self) -> None:
        self.log_pane.view.focus()

    def show_selected(self) -> None:
        """Render the selected step's title, state, command and the log note."""
        step = self.selected
        if step is None:
            return
        st = self.state.step(step.id)
        self.log_pane.view.set_streaming(st.status is StepStatus.RUNNING)
        self.log_pane.note(self.feed.log_note(step, st))
        self.detail.show(step, st, self.state, number=self.step_list.numbers[step.id])

    @on(HostGrid.Chosen)
    def _host_chosen(self, message: HostGrid.Chosen) -> None:
        if message.host == self.buffer.host_filter:
            return
        self.buffer.host_filter = message.host
        self.show_log()
        if message.host is None:
            self.step_list.focus()

    def _mark_cut(self) -> None:
        if self.is_attached:
            self.detail.mark_cut()

    def on_resize(self, event: Resize) -> None:
        super().on_resize(event)
        self.call_after_refresh(self._mark_cut)

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.show_selected()  # the log pane searched; the note says how many matches

    @on(LogView.FollowChanged)
    def _follow_changed(self) -> None:
        step = self.selected
        if step is not None:
            self.log_pane.note(self.feed.log_note(step, self.state.step(step.id)))

    # --- the keys: looking (here), acting (intents.py), ending (lifecycle.py) --

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A follower is not offered intents: their keys do nothing and leave the footer.

        Nor is a key that would do nothing here: the host grid is on fleet steps only.
        """
        if action == "focus_hosts":
            step = self.selected
            return step is not None and step.fleet is not None
        return not (self.read_only and action in INTENT_ACTIONS)

    def action_view_command(self) -> None:
        """The selected step's whole command (or what it asks), scrollable."""
        step = self.selected
        if step is None:
            return
        from ..command import CommandModal

        st = self.state.step(step.id)
        text = st.command or planned(step, self.state)
        self.app.push_screen(CommandModal(f"Step {self.step_list.numbers[step.id]}: {step.title}", text))

    def action_focus_hosts(self) -> None:
        """Move to the fleet step's host grid (its cursor picks the host shown in the log)."""
        self.detail.focus_hosts()

    def action_search(self) -> None:
        self.log_pane.open_search()

    def action_next_match(self) -> None:
        self.log_pane.view.next_match()

    def action_prev_match(self) -> None:
        self.log_pane.view.next_match(backwards=True)

    def action_follow(self) -> None:
        self.log_pane.view.action_toggle_follow()

    def action_focus_log(self) -> None:
        self.log_pane.view.focus()

    def action_focus_watch(self) -> None:
        self.watch_pane.focus_log()

    def action_back(self) -> None:
        """Escape: close the search bar, else leave (asking if the session is open)."""
        if self.log_pane.close_search():
            self.step_list.focus()
            return
        self.lifecycle.back()

    def action_end(self) -> None:
        self.lifecycle.end()

    def action_run_step(self) -> None:
        self.intents.run_step()

    def action_run_all(self) -> None:
        self.intents.run_all()

    def action_run_from(self) -> None:
        self.intents.run_from()

    def action_plan(self) -> None:
        self.intents.plan()

    def action_cancel(self) -> None:
        self.intents.cancel()

    def action_skip(self) -> None:
        self.intents.skip()

    def action_note(self) -> None:
        self.intents.note()

    def action_undo(self) -> None:
        self.intents.undo()

    def action_mark_done(self) -> None:
        self.intents.mark_done()

    def action_templates(self) -> None:
        self.intents.templates()

    def action_evidence(self, what: str) -> None:
        self.intents.evidence(what)
