"""The session's life on the run screen: start, pre-flight, resume, end, quit, left open.

Start builds the session (unless it arrived built: a resume, or a followed session),
subscribes the screen to its events, asks the pre-flight and, after a resume, renders
the recorded state and asks about each interrupted step. The end and the quit ask what
happened if work is running (``QuitModal``), then finish the session (recorded), or
hang it up and leave it open for ``runbook-tui resume``. The screen owns one
:class:`Lifecycle`; its keys (``e``, escape) and the app's quit call in here.
"""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial
from typing import TYPE_CHECKING

from textual.worker import Worker

from ....core.errors import RunbookTuiError
from ....core.events import SessionFinished, StepStatus
from ....core.model import StepKind
from ....core.session_view import SessionControl
from ...widgets.clock import Countdown

if TYPE_CHECKING:
    from .screen import ProcedureScreen

# What the journal says (after the stopped step's last line) when the engineer quits leaving it open.
LEFT_OPEN_WHY = "the engineer quit, leaving the session open"


class Lifecycle:
    """The session's start and end, as the run screen drives them (the screen owns one)."""

    def __init__(self, screen: ProcedureScreen) -> None:
        self.screen = screen
        self.finished = False  # the session finished (its SessionFinished event arrived)
        self.quitting = False  # the app is on its way out (left open, or finishing then quitting)

    # --- start ------------------------------------------------------------

    def start(self) -> Worker[None]:
        """Create the session and its journal, then start it (no step runs), in a worker."""
        return self.screen.run_worker(
            self._start, name="start_session", group="session", exclusive=True, exit_on_error=False
        )

    async def _start(self) -> None:
        from ....core.follow import FollowedSession
        from ...asker import UiAsker

        screen = self.screen
        if screen.session is None:
            factory = screen.rb_app.session_factory
            try:
                screen.session = screen.control = factory(
                    screen.runbook, screen.procedure, UiAsker(screen.app)
                )
            except RunbookTuiError as exc:
                # Another live session in this workdir, an unusable data folder: said, nothing runs.
                screen.notify(str(exc), title="Cannot start the session", severity="error", timeout=60)
                return
        screen.session.subscribe(screen.feed.on_engine_event)
        if isinstance(screen.session, FollowedSession):
            screen.session.on_gone(self._runner_gone)
        await screen.session.start()
        control = screen.control
        if control is None:
            return  # read-only: the tail replays every event from the start; nothing to ask or run
        if not screen.resumed and not await self._preflight(control):
            return
        if screen.decision is not None:
            control.decide(screen.decision.id, by="engineer")
        screen.show_selected()
        if screen.resumed:
            self._show_resumed()
            await self._ask_about_interrupted()

    def _runner_gone(self, why: str) -> None:
        """The followed session's runner died without finishing it: say so, and how to go on."""
        session_id = self.screen.session.session_id if self.screen.session is not None else "SESSION"
        self.screen.notify(
            f"The session did not finish: {why}. Continue it with 'runbook-tui resume {session_id}'.",
            title="The runner is gone",
            severity="warning",
            timeout=3600,
        )

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

        self.screen.app.push_screen(PreflightModal(lines), chosen)
        go_on = await answer
        session.record_preflight(findings, accepted=go_on, by="engineer")
        if not go_on:
            await session.finish(aborted=True, message="stopped at the pre-flight")
            self.screen.show_selected()
        return go_on

    # --- resume -----------------------------------------------------------

    def _show_resumed(self) -> None:
        """Render the recorded state: every step as it stands, the clock from the original start."""
        screen = self.screen
        state = screen.state
        steps = screen.step_list
        for step_id in screen.steps:
            steps.show_state(state.step(step_id))
        for step_id in state.step_order:
            # The state keeps each step's last lines; the journal has every one of them.
            tail = state.steps[step_id].tail
            if tail:
                screen.buffer.keep_recorded(step_id, tail)
        clock = screen.clock
        clock.session_started = state.started_at
        if state.started_at is not None:
            # One clock (core/engine/windows.py): every window runs from the session's start.
            origin = state.started_at
            clock.procedure = Countdown("procedure", "window", origin, screen.procedure.target_seconds or 0.0)
            decision = state.decision
            if decision is not None and decision.deadline_seconds:
                clock.deadlines = (Countdown(decision.row_id, "decide", origin, decision.deadline_seconds),)
            # Crossings recorded before the resume were announced then; only new ones are.
            for warning in state.warnings:
                clock.seen(warning.scope, "warning")
            for breach in state.breaches:
                clock.seen(breach.scope, "breach")
        screen.set_class(state.mode == "drill" or screen.rb_app.drill, "-drill")
        screen.checklist.show_mode(state.mode, resumed=True)
        for said in screen.session.warnings if screen.session is not None else ():
            screen.notify(said, title="Resumed", severity="warning", timeout=30, markup=False)
        focus = next(
            (s for s in screen.steps if state.step(s).status is StepStatus.INTERRUPTED),
            next((s for s in screen.steps if not state.step(s).status.is_ok), None),
        )
        if focus is not None:
            steps.select_step(focus)
        screen.show_log()
        screen.show_selected()

    async def _ask_about_interrupted(self) -> None:
        """For each interrupted step: re-run it or mark it done (escape leaves it for later)."""
        from ..resume import InterruptedModal, ask

        screen = self.screen
        intents = screen.intents
        state = screen.state
        for step_id in [s for s in screen.steps if state.step(s).status is StepStatus.INTERRUPTED]:
            st = screen.state.step(step_id)
            answer = await ask(screen.rb_app, InterruptedModal(screen.steps[step_id].title, st, st.command))
            if answer is None:
                screen.notify(
                    f"{screen.steps[step_id].title} stays interrupted: r re-runs it, m marks it done.",
                    severity="warning",
                )
            elif answer[0] == "done":
                intents.send(partial(intents.control.mark_done, step_id, answer[1]))
            elif screen.steps[step_id].kind is StepKind.WATCH:
                intents.send(partial(intents.control.run_in_background, step_id))
            elif not intents.foreground_busy():
                screen.step_list.select_step(step_id)
                intents.foreground = intents.run(step_id)

    # --- the end ----------------------------------------------------------

    def session_finished(self, event: SessionFinished) -> None:
        """The session ended (recorded): stop the clock and show the summary, unless quitting."""
        screen = self.screen
        self.finished = True
        screen.clock.stopped_at = event.at
        if self.quitting:
            return
        from ..summary import SummaryScreen

        if screen.session is not None:
            summary = SummaryScreen(
                screen.session, screen.procedure, runbook=screen.runbook, control=screen.control
            )
            screen.app.push_screen(summary)

    def back(self) -> None:
        """Escape, the search bar closed: leave, unless the session is open (then say how)."""
        screen = self.screen
        if screen.read_only:
            screen.app.exit(0)  # a follower leaves; the session goes on
            return
        if self.finished or screen.session is None or screen.state.started_at is None:
            screen.dismiss()
            return
        screen.notify("The session is open: e ends it (recorded), then you can go back.")

    def end(self) -> None:
        """End the session: ask what happened if work is running, then finish."""
        screen = self.screen
        if screen.session is None or self.finished:
            return
        from ..quit import QuitModal

        def done(choice: str | None) -> None:
            if choice in ("abort", "finish"):
                self._finish(aborted=choice == "abort", then_quit=False)

        screen.app.push_screen(QuitModal(self._running_titles(), quitting=False), done)

    def _running_titles(self) -> list[str]:
        screen = self.screen
        return [screen.steps[s].title for s in screen.running if s in screen.steps]

    async def confirm_quit(self) -> None:
        """The app's quit with work running: leave the session open, abort, or stay."""
        from ..quit import QuitModal

        screen = self.screen
        if self.quitting:
            return  # already on the way out: a second ctrl+q asks nothing
        if screen.read_only:
            screen.app.exit(0)  # a follower stops nothing: the session goes on elsewhere
            return

        def done(choice: str | None) -> None:
            if choice is None or self.quitting:
                return
            self.quitting = True
            if choice == "leave":
                self._leave_open()
            else:
                self._finish(aborted=choice == "abort", then_quit=True)

        screen.app.push_screen(QuitModal(self._running_titles(), quitting=True), done)

    def _leave_open(self) -> Worker[None]:
        return self.screen.run_worker(
            self._leave_open_work, name="_leave_open", group="finish", exclusive=True, exit_on_error=False
        )

    async def _leave_open_work(self) -> None:
        """Stop what runs as a hang-up does (unrecorded, the journal says why), then quit.

        The journal ends with the steps still running and no end, so ``runbook-tui resume``
        marks them interrupted and asks; nothing is recorded as failed or cancelled.
        """
        screen = self.screen
        session = screen.intents.control
        session.hang_up(LEFT_OPEN_WHY)
        foreground = screen.intents.foreground
        if foreground is not None:
            # After the hang-up: a run of every step must not start the next one unrecorded.
            foreground.cancel()
        await session.wait_idle()
        self._note_left_open(session.session_id)
        screen.app.exit(0)  # the command then prints the session id with the resume hint

    def _finish(self, *, aborted: bool, then_quit: bool) -> Worker[None]:
        return self.screen.run_worker(
            partial(self._finish_work, aborted=aborted, then_quit=then_quit),
            name="_finish",
            group="finish",
            exclusive=True,
            exit_on_error=False,
        )

    async def _finish_work(self, *, aborted: bool, then_quit: bool) -> None:
        """Cancel what runs, wait for it to stop, then record how the session ended."""
        screen = self.screen
        control = screen.intents.control
        for step_id in screen.running:
            control.cancel(step_id)
        foreground = screen.intents.foreground
        if foreground is not None:
            # A worker that failed or timed out still lets us finish.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(foreground.wait(), timeout=15)
        try:
            await control.finish(aborted=aborted, cancel_background=aborted)
        except RunbookTuiError as exc:  # the journal cannot be written: the session stays open
            screen.notify(str(exc), title="Journal", severity="error", timeout=60)
            if then_quit:
                screen.app.exit(2)
            return
        if then_quit:
            screen.app.exit(0)

    def unmounted(self) -> None:
        """The app quit (or the screen went) with the session open: stop recording, leave it
        resumable, and let the app say so after it exits."""
        screen = self.screen
        session = screen.session
        if screen.read_only:
            if session is not None:
                session.close()  # stops the tail; the session goes on elsewhere
            return
        if session is None or self.finished or screen.state.started_at is None:
            return
        if screen.state.finished:
            return
        with contextlib.suppress(Exception):
            session.close()
        self._note_left_open(session.session_id)

    def _note_left_open(self, session_id: str) -> None:
        """Tell the app this session stays open, so the command prints the resume hint."""
        left_open = getattr(self.screen.app, "left_open", None)
        if isinstance(left_open, list) and session_id not in left_open:
            left_open.append(session_id)
