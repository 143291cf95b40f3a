"""The run: the checklist on the left, the selected step and its live log on the right.

The engine runs in this event loop; its events arrive through ``session.subscribe``.
Output lines wait in the output buffer (``output.py``) and are flushed to the log panes
every 50 ms (one refresh for thousands of lines); every other event becomes a
:class:`SessionEvent` message, which this screen routes to its parts: the checklist
(``StepList``), the clock, and the step detail (``step_detail.py``) with its log pane
(``log_pane.py``) and watch pane (``watch_pane.py``). What is shown is read from
``session.state`` (a fold over the events): this screen only renders events and sends
the engineer's intents. It knows the session only as a ``SessionView`` (what a follower
offers too) and, unless read-only, a ``SessionControl`` (``core/session_view.py``).
A resumed session arrives already built (see ``resume.py``): its recorded state is shown
as it stands, and each interrupted step waits for the engineer to re-run it or mark it done.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from functools import partial
from pathlib import PurePath
from typing import TYPE_CHECKING, ClassVar, Literal, cast, overload

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.events import Resize
from textual.widgets import Input, OptionList
from textual.worker import Worker, WorkerState

from ....core import events as ev
from ....core.durations import format_seconds
from ....core.errors import RunbookTuiError
from ....core.events import StepStatus
from ....core.journal.fold import SessionState, StepState
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
from .log_pane import LogPane
from .output import OutputBuffer
from .step_detail import StepDetail, planned
from .watch_pane import WatchPane

if TYPE_CHECKING:
    from ....core.plan import Plan

FLUSH_SECONDS = 0.05
# No output for this long: the stream stopped (or paused), so its last lines show at once
# instead of waiting for the log pane's refresh budget.
QUIET_SECONDS = 0.015
# While output floods, the "N lines" note under the log is rewritten at most this often.
NOTE_SECONDS = 1.0
# What the journal says (after the stopped step's last line) when the engineer quits leaving it open.
LEFT_OPEN_WHY = "the engineer quit, leaving the session open"
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
        self.session: SessionView | None = session  # given: a resumed session; else built in start_session
        # The same session, to act on; None when read-only (the overloads above say which is given).
        self.control: SessionControl | None = None if read_only else cast("SessionControl | None", session)
        self.resumed = session is not None
        self.first_step_at = first_step_at  # when the first step started (the clock runs from session start)
        self.steps = {s.id: s for s in procedure.all_steps()}
        self.buffer = OutputBuffer()
        self.watch_step: str | None = None  # the step whose lines go to the watch pane
        self.foreground: Worker[None] | None = None
        self._quiet_mark = -1  # lines seen when the quiet check last looked
        self._quiet: asyncio.TimerHandle | None = None
        self._note_at = 0.0
        self.events: list[ev.Event] = []  # every non-output event seen, for tests and the summary
        self.finished = False
        self.quitting = False

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
    def step_list(self) -> StepList:
        """The checklist."""
        return self.query_one("#steps", StepList)

    @property
    def detail(self) -> StepDetail:
        """The selected step's box."""
        return self.query_one(StepDetail)

    @property
    def log_pane(self) -> LogPane:
        """The selected step's log, search bar and note."""
        return self.query_one(LogPane)

    @property
    def watch_pane(self) -> WatchPane:
        """The watch step's pane."""
        return self.query_one(WatchPane)

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
        self.set_interval(FLUSH_SECONDS, self._flush_output)
        self.show_selected()
        self.start_session()

    # --- the session ----------------------------------------------------

    @property
    def state(self) -> SessionState:
        """The session's state (a fold over its events)."""
        return self.session.state if self.session is not None else SessionState()

    @work(exclusive=True, group="session", exit_on_error=False)
    async def start_session(self) -> None:
        """Create the session and its journal, then start it (no step runs)."""
        from ...asker import UiAsker

        if self.session is None:
            factory = self.rb_app.session_factory
            try:
                self.session = self.control = factory(self.runbook, self.procedure, UiAsker(self.app))
            except RunbookTuiError as exc:
                # Another live session in this workdir, an unusable data folder: said, nothing runs.
                self.notify(str(exc), title="Cannot start the session", severity="error", timeout=60)
                return
        self.session.subscribe(self._on_engine_event)
        await self.session.start()
        control = self.control
        if control is None:
            return  # read-only: the tail replays every event from the start; nothing to ask or run
        if not self.resumed and not await self._preflight(control):
            return
        if self.decision is not None:
            control.decide(self.decision.id, by="engineer")
        self.show_selected()
        if self.resumed:
            self._show_resumed()
            await self._ask_about_interrupted()

    async def _preflight(self, session: SessionControl) -> bool:
        """Show what is missing here before the first step; False when the engineer stops."""
        from ..preflight import PreflightModal

        findings = session.preflight()
        if not findings:
            return True
        lines = [session.redact(f.message) for f in findings]
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        def chosen(go: bool | None) -> None:
            if not answer.done():
                answer.set_result(bool(go))

        self.app.push_screen(PreflightModal(lines), chosen)
        go_on = await answer
        session.record_preflight(findings, accepted=go_on, by="engineer")
        if not go_on:
            await session.finish(aborted=True, message="stopped at the pre-flight")
            self.show_selected()
        return go_on

    def _show_resumed(self) -> None:
        """Render the recorded state: every step as it stands, the clock from the original start."""
        state = self.state
        steps = self.step_list
        for step_id in self.steps:
            steps.show_state(state.step(step_id))
        for step_id in state.step_order:
            # The state keeps each step's last lines; the journal has every one of them.
            tail = state.steps[step_id].tail
            if tail:
                self.buffer.keep_recorded(step_id, tail)
        clock = self.clock
        clock.session_started = state.started_at
        if state.started_at is not None:
            # One clock (core/engine/windows.py): every window runs from the session's start.
            origin = state.started_at
            clock.procedure = Countdown("procedure", "window", origin, self.procedure.target_seconds or 0.0)
            decision = state.decision
            if decision is not None and decision.deadline_seconds:
                clock.deadlines = (Countdown(decision.row_id, "decide", origin, decision.deadline_seconds),)
            # Crossings recorded before the resume were announced then; only new ones are.
            for warning in state.warnings:
                clock.seen(warning.scope, "warning")
            for breach in state.breaches:
                clock.seen(breach.scope, "breach")
        self.set_class(state.mode == "drill" or self.rb_app.drill, "-drill")
        self.query_one(Checklist).show_mode(state.mode, resumed=True)
        for said in self.session.warnings if self.session is not None else ():
            self.notify(said, title="Resumed", severity="warning", timeout=30, markup=False)
        focus = next(
            (s for s in self.steps if state.step(s).status is StepStatus.INTERRUPTED),
            next((s for s in self.steps if not state.step(s).status.is_ok), None),
        )
        if focus is not None:
            steps.select_step(focus)
        self._show_log()
        self.show_selected()

    async def _ask_about_interrupted(self) -> None:
        """For each interrupted step: re-run it or mark it done (escape leaves it for later)."""
        from ..resume import InterruptedModal, ask

        state = self.state
        for step_id in [s for s in self.steps if state.step(s).status is StepStatus.INTERRUPTED]:
            st = self.state.step(step_id)
            answer = await ask(self.rb_app, InterruptedModal(self.steps[step_id].title, st, st.command))
            if answer is None:
                self.notify(
                    f"{self.steps[step_id].title} stays interrupted: r re-runs it, m marks it done.",
                    severity="warning",
                )
            elif answer[0] == "done":
                self._intent(partial(self.intents.mark_done, step_id, answer[1]))
            elif self.steps[step_id].kind is StepKind.WATCH:
                self._intent(partial(self.intents.run_in_background, step_id))
            elif not self._foreground_busy():
                self.step_list.select_step(step_id)
                self.foreground = self._run(step_id)

    def _on_engine_event(self, event: ev.Event) -> None:
        # Runs in the event loop, called by the engine: keep it tiny.
        if type(event) is ev.OutputLine:
            self.buffer.pending.append(event)
            if self._quiet is None:  # per line only this check: a flood is millions of lines
                self._quiet = asyncio.get_running_loop().call_later(QUIET_SECONDS, self._quiet_check)
            return
        if isinstance(event, ev.StepStarted):
            # In order with the output: earlier lines belong to the previous attempt.
            self._flush_output()
            self.buffer.restart(event.step_id)
        self.post_message(SessionEvent(event))

    def _quiet_check(self) -> None:
        """The stream went quiet: its last lines go on screen now, past the refresh budget."""
        # Lines still arriving since the last look: look again later (the stream goes on).
        arrived = self.buffer.seen + len(self.buffer.pending)
        if arrived != self._quiet_mark:
            self._quiet_mark = arrived
            self._quiet = asyncio.get_running_loop().call_later(QUIET_SECONDS, self._quiet_check)
            return
        self._quiet = None
        if not self.is_attached:
            return
        self._flush_output()
        self.log_pane.view.flush()
        self.watch_pane.view.flush()
        self._update_note(force=True)

    def _update_note(self, *, force: bool = False) -> None:
        """The line count under the log: at most once a second while output floods."""
        now = time.monotonic()
        step = self.selected
        if step is None or (not force and now - self._note_at < NOTE_SECONDS):
            return
        self._note_at = now
        self.log_pane.note(self._log_note(step, self.state.step(step.id)))

    def _flush_output(self) -> None:
        """Move buffered output lines into the step buffers and the visible panes."""
        if not self.buffer.pending:
            return
        to_log, to_watch = self.buffer.flush(self.selected_id, self.watch_step)
        if to_log:
            self.log_pane.view.write_lines(to_log)
            self._update_note()
        if to_watch:
            self.watch_pane.view.write_lines(to_watch)

    @on(SessionEvent)
    def _session_event(self, message: SessionEvent) -> None:
        self._flush_output()
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
            self.query_one(Checklist).show_mode(event.mode)
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
            self._session_finished(event)
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
            self._show_log()
        else:
            self.step_list.select_step(event.step_id)

    def _step_finished(self, event: ev.StepFinished) -> None:
        title = self.steps[event.step_id].title if event.step_id in self.steps else event.step_id
        status = StepStatus(event.status)
        if event.step_id == self.watch_step:
            self.watch_pane.show_finished(title, LABEL[status])
        if status is StepStatus.FAILED:
            self.notify(event.message or "failed", title=f"✘ {title}", severity="error", timeout=10)

    def _session_finished(self, event: ev.SessionFinished) -> None:
        self.finished = True
        self.clock.stopped_at = event.at
        if self.quitting:
            return
        from ..summary import SummaryScreen

        if self.session is not None:
            summary = SummaryScreen(self.session, self.procedure, runbook=self.runbook, control=self.control)
            self.app.push_screen(summary)

    @on(RecoveryClock.Crossed)
    def _window_crossed(self, message: RecoveryClock.Crossed) -> None:
        what = "The recovery window" if message.scope == "procedure" else "The decision deadline"
        spent = f"{format_seconds(message.elapsed)} of {format_seconds(message.target)}"
        if message.level == "warning":
            self.notify(f"{what} is 80% gone ({spent}).", title="Clock", severity="warning", timeout=10)
        else:
            self.notify(f"{what} is breached ({spent}).", title="Clock", severity="error", timeout=15)

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
        self._show_log()
        self.show_selected()

    def _show_log(self) -> None:
        """Fill the log pane from the selected step's kept lines."""
        self._flush_output()
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
        self.log_pane.note(self._log_note(step, st))
        self.detail.show(step, st, self.state, number=self.step_list.numbers[step.id])

    @on(HostGrid.Chosen)
    def _host_chosen(self, message: HostGrid.Chosen) -> None:
        if message.host == self.buffer.host_filter:
            return
        self.buffer.host_filter = message.host
        self._show_log()
        if message.host is None:
            self.step_list.focus()

    def action_focus_hosts(self) -> None:
        """Move to the fleet step's host grid (its cursor picks the host shown in the log)."""
        self.detail.focus_hosts()

    def _mark_cut(self) -> None:
        if self.is_attached:
            self.detail.mark_cut()

    def on_resize(self, event: Resize) -> None:
        super().on_resize(event)
        self.call_after_refresh(self._mark_cut)

    def action_view_command(self) -> None:
        """The selected step's whole command (or what it asks), scrollable."""
        step = self.selected
        if step is None:
            return
        from ..command import CommandModal

        st = self.state.step(step.id)
        text = st.command or planned(step, self.state)
        self.app.push_screen(CommandModal(f"Step {self.step_list.numbers[step.id]}: {step.title}", text))

    def _log_note(self, step: Step, st: StepState) -> Content:
        log = self.log_pane.view
        follow = "following" if log.follow else "paused (f follows)"
        journal = self.session.journal_path if self.session is not None else None
        where = f"full output in journal {journal}" if journal else "full output is in the journal"
        if log.match_count:
            where = f"{log.match_count} matches ([ ] move) · " + where
        lines = max(st.output_lines, len(self.output.get(step.id, ())))
        uses = self._carried_note(step.id)
        return Content(f"{uses}{lines} lines · {follow} · {where}").stylize("$text-muted")

    def _carried_note(self, step_id: str) -> str:
        """``uses TARGET_VERSION=v1.2.3 from step 2 · `` for carried values the step reads."""
        if self.session is None:
            return ""
        numbers = self.step_list.numbers
        used = self.session.carried_used(step_id)
        return "".join(f"uses {n}={v} from step {numbers.get(by, by)} · " for n, v, by in used)

    @on(LogView.FollowChanged)
    def _follow_changed(self) -> None:
        step = self.selected
        if step is not None:
            self.log_pane.note(self._log_note(step, self.state.step(step.id)))

    # --- intents --------------------------------------------------------

    @property
    def running(self) -> list[str]:
        """Steps running now, per the session state."""
        return self.state.running() if self.session is not None else []

    @property
    def has_running_work(self) -> bool:
        """A step is running, or a run worker is still going."""
        busy = self.foreground is not None and self.foreground.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        )
        return bool(self.running) or busy

    def _ready(self) -> bool:
        if self.session is None or self.state.started_at is None:
            self.notify("The session is still starting.", severity="warning")
            return False
        if self.finished:
            self.notify("This session has finished.", severity="warning")
            return False
        return True

    def _foreground_busy(self) -> bool:
        if self.foreground is not None and self.foreground.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        ):
            running = [s for s in self.running if s != self.watch_step]
            what = self.steps[running[0]].title if running and running[0] in self.steps else "a step"
            self.notify(f"{what} is running; c cancels it.", severity="warning")
            return True
        return False

    def action_run_step(self) -> None:
        """Run the selected step (only when asked: nothing runs by itself)."""
        step = self.selected
        if step is None or not self._ready() or self._foreground_busy():
            return
        if self.state.step(step.id).status is StepStatus.RUNNING:
            self.notify(f"{step.title} is already running.", severity="warning")
            return
        if step.kind is StepKind.WATCH:
            # A watch streams in its own pane while the engineer goes on with later steps.
            self._intent(lambda: self.intents.run_in_background(step.id))
            return
        status = self.state.step(step.id).status
        retry = status in (StepStatus.FAILED, StepStatus.CANCELLED, StepStatus.INTERRUPTED)
        self.foreground = self._run(step.id, retry=retry)

    def action_plan(self) -> None:
        """Show the plan (nothing changes); ``a`` there runs the procedure, the plan journalled."""
        if self.session is None:
            self.notify("The session is still starting.", severity="warning")
            return
        from ..plan import PlanScreen

        params = self.intents.param_values()

        def chosen(plan: Plan | None) -> None:
            if plan is None or not self._ready():
                return
            from ....core.plan import plan_lines

            self._intent(lambda: self.intents.record_plan(plan_lines(plan), plan.unplanned, by="engineer"))
            self.action_run_all()

        screen = PlanScreen(
            self.runbook, self.procedure, workdir=self.intents.workdir, params=params, env=self.intents.env
        )
        self.app.push_screen(screen, chosen)

    def action_run_from(self) -> None:
        """Run again from the selected step: earlier steps not done are skipped over (journalled)."""
        step = self.selected
        if step is None or not self._ready() or self._foreground_busy():
            return
        try:
            skipped, _rerun = self.intents.run_from(step.id)
        except Exception as exc:  # the engine refuses with a message
            self.notify(str(exc), severity="error", timeout=8)
            return
        if skipped:
            self.notify(f"Skipped over: {', '.join(skipped)} (recorded).")
        self.action_run_all()

    def action_run_all(self) -> None:
        """Run every pending step in order, stopping at a failure."""
        if not self._ready() or self._foreground_busy():
            return
        self.foreground = self._run(None)

    @work(exclusive=True, group="run", exit_on_error=False)
    async def _run(self, step_id: str | None, retry: bool = False) -> None:
        try:
            if step_id is None:
                await self.intents.run_all(stop_on_failure=True)
            elif retry:
                await self.intents.retry(step_id)  # journalled as a retry, then the next attempt
            else:
                await self.intents.run_step(step_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the engine's errors are values with a message
            self.post_message(RunEnded(step_id or "all", str(exc)))
            return
        self.post_message(RunEnded(step_id or "all"))

    @on(RunEnded)
    def _run_ended(self, message: RunEnded) -> None:
        if message.error:
            self.notify(message.error, title="Could not run", severity="error", timeout=10)
        self.show_selected()

    def action_cancel(self) -> None:
        """Cancel the selected step if it runs, else the running foreground step."""
        running = self.running
        if not running:
            self.notify("Nothing is running.")
            return
        step_id = self.selected_id if self.selected_id in running else running[-1]
        fg = [s for s in running if s != self.watch_step]
        if self.selected_id not in running and fg:
            step_id = fg[0]
        self.intents.cancel(step_id)
        self.notify(f"Cancelling {self.steps[step_id].title}…", severity="warning")

    def action_skip(self) -> None:
        """Skip the selected step; a reason is required."""
        step = self.selected
        if step is None or not self._ready():
            return
        status = self.state.step(step.id).status
        if status.is_final or status is StepStatus.RUNNING:
            self.notify(f"{step.title} is {LABEL[status]}; only a step that has not run can be skipped.")
            return
        from ..text_prompt import TextPrompt

        def done(reason: str | None) -> None:
            if reason:
                self._intent(lambda: self.intents.skip(step.id, reason))

        self.app.push_screen(
            TextPrompt(f"Skip: {step.title}", "Why is this step skipped? (recorded in the journal)"), done
        )

    def action_note(self) -> None:
        """Add a note to the selected step (any time, running or not)."""
        step = self.selected
        if self.session is None:
            return
        from ..text_prompt import TextPrompt

        def done(text: str | None) -> None:
            if text:
                self._intent(lambda: self.intents.note(text, step_id=step.id if step else None))
                self.notify("Note added.")

        about = f"on {step.title}" if step else "on the session"
        self.app.push_screen(TextPrompt("Note", f"A note {about}, recorded with the time."), done)

    def action_undo(self) -> None:
        """Undo the selected step's file edit (after a confirmation showing the diff)."""
        step = self.selected
        if step is None or self.session is None:
            return
        edit = self.state.step(step.id).active_edit
        if edit is None:
            self.notify(f"{step.title} has no edit to undo.")
            return
        from ..confirm import ConfirmModal

        def done(yes: bool | None) -> None:
            if yes:
                self._intent(lambda: self.intents.undo_edit(step.id))

        self.app.push_screen(
            ConfirmModal(
                step_id=step.id,
                title=f"Undo: {step.title}",
                message=f"Restore {edit.path} from its backup, reverting this change:",
                diff=edit.diff,
            ),
            done,
        )

    def action_mark_done(self) -> None:
        """Declare a manual or interrupted step done, with a note saying what was done."""
        step = self.selected
        if step is None or not self._ready():
            return
        status = self.state.step(step.id).status
        if status is StepStatus.PASSED or status is StepStatus.RUNNING:
            self.notify(f"{step.title} is {LABEL[status]}.")
            return
        from ..text_prompt import TextPrompt

        def done(note: str | None) -> None:
            if note:
                self._intent(lambda: self.intents.mark_done(step.id, note))

        self.app.push_screen(TextPrompt(f"Mark done: {step.title}", "What was done, and by whom?"), done)

    def action_templates(self) -> None:
        """Fill a communication template from this session, edit, copy and save it."""
        if self.session is None or self.state.started_at is None:
            self.notify("The session is still starting.", severity="warning")
            return
        from ..templates import TemplatesScreen

        self.app.push_screen(TemplatesScreen(self.session, self.runbook, control=self.control))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A follower is not offered intents: their keys do nothing and leave the footer."""
        return not (self.read_only and action in INTENT_ACTIONS)

    def on_unmount(self) -> None:
        # The app quit (or the screen went) with the session open: stop recording, leave it
        # resumable, and let the app say so after it exits.
        session = self.session
        if self.read_only:
            if session is not None:
                session.close()  # stops the tail; the session goes on elsewhere
            return
        if session is None or self.finished or self.state.started_at is None:
            return
        if self.state.finished:
            return
        with contextlib.suppress(Exception):
            session.close()
        self._note_left_open(session.session_id)

    def _note_left_open(self, session_id: str) -> None:
        """Tell the app this session stays open, so the command prints the resume hint."""
        left_open = getattr(self.app, "left_open", None)
        if isinstance(left_open, list) and session_id not in left_open:
            left_open.append(session_id)

    def action_evidence(self, what: str) -> None:
        """Action item, roles, handoff or a corrected impact start: asked, then journalled."""
        from ..evidence import evidence_action

        evidence_action(self, what)

    @property
    def intents(self) -> SessionControl:
        """The session to act on; a follower has none (its intent keys are never offered)."""
        if self.control is None:
            raise RuntimeError("this session is followed read-only: it runs elsewhere")
        return self.control

    def _intent(self, call: Callable[[], object]) -> None:
        """Send an intent to the engine; its refusals are shown, never raised."""
        try:
            call()
        except Exception as exc:  # the engine refuses with a message
            self.notify(str(exc), severity="error", timeout=8)

    def action_search(self) -> None:
        self.log_pane.open_search()

    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        self.show_selected()  # the log pane searched; the note says how many matches

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
        if self.read_only:
            self.app.exit(0)  # a follower leaves; the session goes on
            return
        if self.finished or self.session is None or self.state.started_at is None:
            self.dismiss()
            return
        self.notify("The session is open: e ends it (recorded), then you can go back.")

    def action_end(self) -> None:
        """End the session: ask what happened if work is running, then finish."""
        if self.session is None or self.finished:
            return
        from ..quit import QuitModal

        def done(choice: str | None) -> None:
            if choice in ("abort", "finish"):
                self._finish(aborted=choice == "abort", then_quit=False)

        self.app.push_screen(QuitModal(self._running_titles(), quitting=False), done)

    def _running_titles(self) -> list[str]:
        return [self.steps[s].title for s in self.running if s in self.steps]

    async def confirm_quit(self) -> None:
        """Called by the app's quit: a step is running, so ask: leave the session open, abort, or stay."""
        from ..quit import QuitModal

        if self.quitting:
            return  # already on the way out: a second ctrl+q asks nothing
        if self.read_only:
            self.app.exit(0)  # a follower stops nothing: the session goes on elsewhere
            return

        def done(choice: str | None) -> None:
            if choice is None or self.quitting:
                return
            self.quitting = True
            if choice == "leave":
                self._leave_open()
            else:
                self._finish(aborted=choice == "abort", then_quit=True)

        self.app.push_screen(QuitModal(self._running_titles(), quitting=True), done)

    @work(exclusive=True, group="finish", exit_on_error=False)
    async def _leave_open(self) -> None:
        """Stop what runs as a hang-up does (unrecorded, the journal says why), then quit.

        The journal ends with the steps still running and no end, so ``runbook-tui resume``
        marks them interrupted and asks; nothing is recorded as failed or cancelled.
        """
        session = self.intents
        session.hang_up(LEFT_OPEN_WHY)
        if self.foreground is not None:
            # After the hang-up: a run of every step must not start the next one unrecorded.
            self.foreground.cancel()
        await session.wait_idle()
        self._note_left_open(session.session_id)
        self.app.exit(0)  # the command then prints the session id with the resume hint

    @work(exclusive=True, group="finish", exit_on_error=False)
    async def _finish(self, *, aborted: bool, then_quit: bool) -> None:
        """Cancel what runs, wait for it to stop, then record how the session ended."""
        for step_id in self.running:
            self.intents.cancel(step_id)
        if self.foreground is not None:
            # A worker that failed or timed out still lets us finish.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.foreground.wait(), timeout=15)
        try:
            await self.intents.finish(aborted=aborted, cancel_background=aborted)
        except RunbookTuiError as exc:  # the journal cannot be written: the session stays open
            self.notify(str(exc), title="Journal", severity="error", timeout=60)
            if then_quit:
                self.app.exit(2)
            return
        if then_quit:
            self.app.exit(0)
