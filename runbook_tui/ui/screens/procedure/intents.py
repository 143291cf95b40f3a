"""The engineer's intents on the run screen: run, run all, skip, note, undo, mark done, ...

Each intent checks that it may act now, asks what it needs with a modal (a reason, a
note, a confirmation showing the diff, the plan) and sends it to the session's
``SessionControl``; the engine's refusals are shown, never raised. The keys stay on the
screen (``ProcedureScreen.BINDINGS``): Textual looks a key's action up only on the
screen, the app or the focused widget, so each ``action_*`` there is one line calling in
here. A run (one step, or every step) is the screen's worker, kept as ``foreground``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from textual.worker import Worker, WorkerState

from ....core.events import StepStatus
from ....core.model import StepKind
from ....core.session_view import SessionControl
from ...format import LABEL
from ...messages import RunEnded

if TYPE_CHECKING:
    from ....core.plan import Plan
    from .screen import ProcedureScreen


class Intents:
    """What the engineer asks of the session from the run screen (the screen owns one)."""

    def __init__(self, screen: ProcedureScreen) -> None:
        self.screen = screen
        self.foreground: Worker[None] | None = None  # the run worker: one step, or every step

    @property
    def control(self) -> SessionControl:
        """The session to act on; a follower has none (its intent keys are never offered)."""
        if self.screen.control is None:
            raise RuntimeError("this session is followed read-only: it runs elsewhere")
        return self.screen.control

    def send(self, call: Callable[[], object]) -> None:
        """Send an intent to the engine; its refusals are shown, never raised."""
        try:
            call()
        except Exception as exc:  # the engine refuses with a message
            self.screen.notify(str(exc), severity="error", timeout=8)

    @property
    def busy(self) -> bool:
        """The run worker is still going."""
        return self.foreground is not None and self.foreground.state in (
            WorkerState.PENDING,
            WorkerState.RUNNING,
        )

    def ready(self) -> bool:
        """The session has started and not finished; else say so."""
        screen = self.screen
        if screen.session is None or screen.state.started_at is None:
            screen.notify("The session is still starting.", severity="warning")
            return False
        if screen.lifecycle.finished:
            screen.notify("This session has finished.", severity="warning")
            return False
        return True

    def foreground_busy(self) -> bool:
        """A run is going (say which step, and that c cancels it)."""
        if self.busy:
            screen = self.screen
            running = [s for s in screen.running if s != screen.watch_step]
            what = screen.steps[running[0]].title if running and running[0] in screen.steps else "a step"
            screen.notify(f"{what} is running; c cancels it.", severity="warning")
            return True
        return False

    # --- running ----------------------------------------------------------

    def run_step(self) -> None:
        """Run the selected step (only when asked: nothing runs by itself)."""
        screen = self.screen
        step = screen.selected
        if step is None or not self.ready() or self.foreground_busy():
            return
        if screen.state.step(step.id).status is StepStatus.RUNNING:
            screen.notify(f"{step.title} is already running.", severity="warning")
            return
        if step.kind is StepKind.WATCH:
            # A watch streams in its own pane while the engineer goes on with later steps.
            self.send(lambda: self.control.run_in_background(step.id))
            return
        status = screen.state.step(step.id).status
        retry = status in (StepStatus.FAILED, StepStatus.CANCELLED, StepStatus.INTERRUPTED)
        self.foreground = self.run(step.id, retry=retry)

    def plan(self) -> None:
        """Show the plan (nothing changes); ``a`` there runs the procedure, the plan journalled."""
        screen = self.screen
        if screen.session is None:
            screen.notify("The session is still starting.", severity="warning")
            return
        from ..plan import PlanScreen

        params = self.control.param_values()

        def chosen(plan: Plan | None) -> None:
            if plan is None or not self.ready():
                return
            from ....core.plan import plan_lines

            self.send(lambda: self.control.record_plan(plan_lines(plan), plan.unplanned, by="engineer"))
            self.run_all()

        control = self.control
        plan_screen = PlanScreen(
            screen.runbook, screen.procedure, workdir=control.workdir, params=params, env=control.env
        )
        screen.app.push_screen(plan_screen, chosen)

    def run_from(self) -> None:
        """Run again from the selected step: earlier steps not done are skipped over (journalled)."""
        screen = self.screen
        step = screen.selected
        if step is None or not self.ready() or self.foreground_busy():
            return
        try:
            skipped, _rerun = self.control.run_from(step.id)
        except Exception as exc:  # the engine refuses with a message
            screen.notify(str(exc), severity="error", timeout=8)
            return
        if skipped:
            screen.notify(f"Skipped over: {', '.join(skipped)} (recorded).")
        self.run_all()

    def run_all(self) -> None:
        """Run every pending step in order, stopping at a failure."""
        if not self.ready() or self.foreground_busy():
            return
        self.foreground = self.run(None)

    def run(self, step_id: str | None, retry: bool = False) -> Worker[None]:
        """Start the run worker: ``step_id`` (a retry when ``retry``), or every step when None."""
        return self.screen.run_worker(
            partial(self._run, step_id, retry),
            name="_run",
            group="run",
            exclusive=True,
            exit_on_error=False,
        )

    async def _run(self, step_id: str | None, retry: bool = False) -> None:
        try:
            if step_id is None:
                await self.control.run_all(stop_on_failure=True)
            elif retry:
                await self.control.retry(step_id)  # journalled as a retry, then the next attempt
            else:
                await self.control.run_step(step_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the engine's errors are values with a message
            self.screen.post_message(RunEnded(step_id or "all", str(exc)))
            return
        self.screen.post_message(RunEnded(step_id or "all"))

    def cancel(self) -> None:
        """Cancel the selected step if it runs, else the running foreground step."""
        screen = self.screen
        running = screen.running
        if not running:
            screen.notify("Nothing is running.")
            return
        selected_id = screen.selected_id
        step_id = selected_id if selected_id in running else running[-1]
        fg = [s for s in running if s != screen.watch_step]
        if selected_id not in running and fg:
            step_id = fg[0]
        self.control.cancel(step_id)
        screen.notify(f"Cancelling {screen.steps[step_id].title}…", severity="warning")

    # --- the record of a step ---------------------------------------------

    def skip(self) -> None:
        """Skip the selected step; a reason is required."""
        screen = self.screen
        step = screen.selected
        if step is None or not self.ready():
            return
        status = screen.state.step(step.id).status
        if status.is_final or status is StepStatus.RUNNING:
            screen.notify(f"{step.title} is {LABEL[status]}; only a step that has not run can be skipped.")
            return
        from ..text_prompt import TextPrompt

        def done(reason: str | None) -> None:
            if reason:
                self.send(lambda: self.control.skip(step.id, reason))

        screen.app.push_screen(
            TextPrompt(f"Skip: {step.title}", "Why is this step skipped? (recorded in the journal)"), done
        )

    def note(self) -> None:
        """Add a note to the selected step (any time, running or not)."""
        screen = self.screen
        step = screen.selected
        if screen.session is None:
            return
        from ..text_prompt import TextPrompt

        def done(text: str | None) -> None:
            if text:
                self.send(lambda: self.control.note(text, step_id=step.id if step else None))
                screen.notify("Note added.")

        about = f"on {step.title}" if step else "on the session"
        screen.app.push_screen(TextPrompt("Note", f"A note {about}, recorded with the time."), done)

    def undo(self) -> None:
        """Undo the selected step's file edit (after a confirmation showing the diff)."""
        screen = self.screen
        step = screen.selected
        if step is None or screen.session is None:
            return
        edit = screen.state.step(step.id).active_edit
        if edit is None:
            screen.notify(f"{step.title} has no edit to undo.")
            return
        from ..confirm import ConfirmModal

        def done(yes: bool | None) -> None:
            if yes:
                self.send(lambda: self.control.undo_edit(step.id))

        screen.app.push_screen(
            ConfirmModal(
                step_id=step.id,
                title=f"Undo: {step.title}",
                message=f"Restore {edit.path} from its backup, reverting this change:",
                diff=edit.diff,
            ),
            done,
        )

    def mark_done(self) -> None:
        """Declare a manual or interrupted step done, with a note saying what was done."""
        screen = self.screen
        step = screen.selected
        if step is None or not self.ready():
            return
        status = screen.state.step(step.id).status
        if status is StepStatus.PASSED or status is StepStatus.RUNNING:
            screen.notify(f"{step.title} is {LABEL[status]}.")
            return
        from ..text_prompt import TextPrompt

        def done(note: str | None) -> None:
            if note:
                self.send(lambda: self.control.mark_done(step.id, note))

        screen.app.push_screen(TextPrompt(f"Mark done: {step.title}", "What was done, and by whom?"), done)

    # --- the session's record ---------------------------------------------

    def templates(self) -> None:
        """Fill a communication template from this session, edit, copy and save it."""
        screen = self.screen
        if screen.session is None or screen.state.started_at is None:
            screen.notify("The session is still starting.", severity="warning")
            return
        from ..templates import TemplatesScreen

        screen.app.push_screen(TemplatesScreen(screen.session, screen.runbook, control=screen.control))

    def evidence(self, what: str) -> None:
        """Action item, roles, handoff or a corrected impact start: asked, then journalled."""
        from ..evidence import evidence_action

        evidence_action(self.screen, what)
