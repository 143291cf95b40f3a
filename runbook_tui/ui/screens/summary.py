"""End of session: outcome, time against the window, skips and why, edits (with undo), the report.

A drill also gets its score (``core/drills/score.py``), computed from the journal
in a thread so a long session does not hold up the screen. It judges the drill's
injected fault (``AppOptions.drill_fault``), so it reads as ``drill`` prints it after
exit; a fault picked at random is revealed here, since the drill is over.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...core.drills.score import DrillScore, format_score
from ...core.durations import format_seconds
from ...core.events import StepStatus
from ...core.journal.fold import SessionState
from ...core.model import Procedure, Runbook
from ...core.session_view import SessionControl, SessionView
from ..format import LABEL, STATUS_STYLE
from ..widgets.timeline_chart import Step as ChartStep
from ..widgets.timeline_chart import TimelineChart
from .base import BaseScreen

if TYPE_CHECKING:
    from ...core.drills.definition import Fault

Part = str | tuple[str, str]
_OUTCOME_STYLE = {"succeeded": "bold $success", "failed": "bold $error", "aborted": "bold $warning"}


def summary_head_parts(state: SessionState, procedure: Procedure) -> list[Part]:
    """The summary's first lines: outcome, time against the window, session, step counts."""
    outcome = state.outcome or "unfinished"
    parts: list[Part] = [("Outcome: ", "bold"), (outcome.upper(), _OUTCOME_STYLE.get(outcome, "bold"))]
    if state.finish_message:
        parts.append((f"  {state.finish_message}", "$text-muted"))
    parts.append("\n")
    duration = state.duration or 0.0
    parts += [("Time: ", "bold"), format_seconds(duration)]
    if state.target_seconds:
        within = duration <= state.target_seconds
        parts.append(
            (f" against a window of {state.window_text or format_seconds(state.target_seconds)}", "")
        )
        parts.append(
            (
                "  within the window" if within else "  window breached",
                "$success" if within else "bold $error",
            )
        )
    parts += [
        "\n",
        ("Session: ", "bold"),
        (state.session_id, "$accent"),
        (f"  {state.mode}", "$text-muted"),
        "\n",
    ]
    counts: dict[str, int] = {}
    for step in procedure.all_steps():
        status = state.step(step.id).status
        counts[LABEL[status]] = counts.get(LABEL[status], 0) + 1
    parts += [("Steps: ", "bold"), ", ".join(f"{n} {label}" for label, n in counts.items()), "\n"]
    parts += [("The report: ", "bold"), (f"runbook-tui report {state.session_id}", "bold $accent"), "\n"]
    return parts


def summary_parts(state: SessionState, procedure: Procedure) -> list[Part]:
    """The summary text, from the session state alone."""
    return summary_head_parts(state, procedure) + summary_rest_parts(state, procedure)


def summary_rest_parts(state: SessionState, procedure: Procedure) -> list[Part]:
    """What follows the timeline: skips, ticks, what did not pass, notes, the report command."""
    parts: list[Part] = []
    skipped = [(s, state.step(s.id)) for s in procedure.all_steps() if state.step(s.id).skip_reason]
    if skipped:
        parts.append(("\nSkipped, and why\n", "bold underline"))
        for step, st in skipped:
            parts += [("  ↷ ", STATUS_STYLE[st.status]), step.title, (f": {st.skip_reason}\n", "$text-muted")]
    ticked = [s for s in procedure.all_steps() if state.step(s.id).status is StepStatus.TICKED]
    if ticked:
        parts.append(("\nTicked, but nobody did it\n", "bold underline"))
        for step in ticked:
            parts += [("  ☐ ", STATUS_STYLE[StepStatus.TICKED]), step.title, "\n"]
    failed = [(s, state.step(s.id)) for s in procedure.all_steps() if not state.step(s.id).status.is_ok]
    failed = [(s, st) for s, st in failed if st.status.value not in ("pending",)]
    if failed:
        parts.append(("\nNot passed\n", "bold underline"))
        for step, st in failed:
            parts += [(f"  {LABEL[st.status]} ", STATUS_STYLE[st.status]), step.title]
            parts.append((f": {st.message}\n" if st.message else "\n", "$text-muted"))
    if state.notes:
        parts.append((f"\nNotes: {len(state.notes)}", "bold"))
        parts.append((f"  last: {state.notes[-1].text}\n", "$text-muted"))
    return parts


def score_parts(result: DrillScore, session_id: str, *, revealed: Fault | None = None) -> list[Part]:
    """The drill's score as the ``drill`` command prints it, headed, with the report command.

    ``revealed``: a fault picked at random, named (with what it was) now that the drill is over.
    """
    first, *rest = format_score(result).splitlines()
    verdict = "$success" if result.points >= 80 else "$warning" if result.points >= 50 else "$error"
    parts: list[Part] = [(first, f"bold {verdict}"), "\n"]
    for line in rest:
        parts.append((line + "\n", "bold $error" if line.endswith("MISSED") else ""))
    if revealed is not None:
        parts += [("The random fault was: ", "bold"), (revealed.name, "bold $warning"), "\n"]
        if revealed.summary:  # a sentence: on a line of its own, so it wraps under itself
            parts.append((f"  {revealed.summary}\n", "$text-muted"))
    parts += [
        ("Debrief: ", "bold"),
        (f"runbook-tui report {session_id}", "bold $accent"),
    ]
    return parts


class SummaryScreen(BaseScreen):
    """What happened, with edits listed for undo and the command for the report."""

    CSS_PATH = "summary.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("u", "undo", "Undo edit", id="summary.undo"),
        Binding("t", "templates", "Templates", id="summary.templates"),
        Binding("l", "library", "Library", id="summary.library"),
        Binding("escape", "back", "Back to run", id="summary.back"),
        Binding("q", "app.quit", "Quit", show=False, id="summary.quit"),
    ]

    def __init__(
        self,
        session: SessionView,
        procedure: Procedure,
        *,
        runbook: Runbook | None = None,
        control: SessionControl | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.control = control  # None: a followed session, nothing to undo or save from here
        self.procedure = procedure
        self.runbook = runbook or getattr(session, "runbook", None)
        self.crumbs = f"{session.state.runbook_id} › summary"
        self.score: DrillScore | None = None

    @property
    def state(self) -> SessionState:
        return self.session.state

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with VerticalScroll(id="summary-box"):
            yield Static(id="summary-text")
            yield TimelineChart(id="summary-timeline")
            yield Static(id="summary-rest")
            yield Static(id="summary-score")
        yield OptionList(id="summary-edits")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#summary-box").border_title = "Session summary"
        self.refresh_summary()
        score = self.query_one("#summary-score", Static)
        score.display = self.state.mode == "drill"
        if score.display:
            score.update(Content("Scoring the drill…").stylize("$text-muted"))
            self.score_drill(self.rb_app.options.drill_fault)

    @work(thread=True, exclusive=True, group="drill-score", exit_on_error=False)
    def score_drill(self, fault: Fault | None = None) -> None:
        """Score the drill from its journal (every event of the session) against ``fault``, off the loop."""
        from ...core.drills.debrief import score_journal

        path = getattr(self.session, "journal_path", None)
        if path is None:
            self.app.call_from_thread(self._show_score, None, "no journal was kept, so there is no score")
            return
        try:
            result = score_journal(Path(path), fault)
        except Exception as exc:  # an unreadable journal: say so, keep the summary
            self.app.call_from_thread(self._show_score, None, f"cannot score the drill: {exc}")
            return
        self.app.call_from_thread(self._show_score, result, "")

    def _show_score(self, result: DrillScore | None, problem: str) -> None:
        self.score = result
        widget = self.query_one("#summary-score", Static)
        if result is None:
            widget.update(Content(f"Drill score: {problem}").stylize("$warning"))
            return
        options = self.rb_app.options
        revealed = options.drill_fault if options.drill_fault_random else None
        widget.update(Content.assemble(*score_parts(result, self.state.session_id, revealed=revealed)))

    def refresh_summary(self) -> None:
        """Re-read the state (after an undo, say) and render it."""
        head = summary_head_parts(self.state, self.procedure)
        if head and head[-1] == "\n":
            head.pop()  # the chart's margin is the gap
        self.query_one("#summary-text", Static).update(Content.assemble(*head))
        rest = summary_rest_parts(self.state, self.procedure)
        while rest and rest[0] == "\n":
            rest.pop(0)
        if rest and isinstance(rest[0], tuple) and rest[0][0].startswith("\n"):
            rest[0] = (rest[0][0][1:], rest[0][1])  # the chart's margin is the gap
        self.query_one("#summary-rest", Static).update(Content.assemble(*rest))
        self.query_one("#summary-timeline", TimelineChart).show(self.state, self._chart_steps())
        edits = self.query_one("#summary-edits", OptionList)
        edits.clear_options()
        for step in self.procedure.all_steps():
            for edit in self.state.step(step.id).edits:
                mark = ("undone", "$text-muted") if edit.undone else ("u undoes", "$warning")
                edits.add_option(
                    Option(
                        Content.assemble(("✎ ", "$accent"), edit.path, "  ", mark),
                        id=f"{step.id}",
                        disabled=edit.undone,
                    )
                )
        edits.display = edits.option_count > 0
        edits.border_title = "Edits made"

    def _chart_steps(self) -> list[ChartStep]:
        """Each step of the procedure for the timeline chart: when it ran and how it ended."""
        out = []
        for step in self.procedure.all_steps():
            st = self.state.step(step.id)
            out.append(ChartStep(step.title, st.started_at, st.finished_at, st.status.value))
        return out

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A followed session's summary offers no undo nor templates (a follower never writes), and
        no library (``follow`` opens no library to go back to)."""
        return not (getattr(self.session, "read_only", False) and action in ("undo", "templates", "library"))

    def action_undo(self) -> None:
        edits = self.query_one("#summary-edits", OptionList)
        if edits.highlighted is None:
            if edits.option_count:
                edits.highlighted = 0
            else:
                self.notify("No edits were made.")
                return
        option = edits.get_option_at_index(edits.highlighted or 0)
        step_id = option.id or ""
        if self.state.step(step_id).active_edit is None:
            self.notify("That edit is already undone.")
            return
        try:
            if self.control is None:
                raise RuntimeError("this session is followed read-only: it runs elsewhere")
            self.control.undo_edit(step_id)
        except Exception as exc:  # the engine refuses with a message (file changed since, say)
            self.notify(str(exc), severity="error", timeout=10)
            return
        self.notify("Edit undone; the file is restored from its backup.")
        self.refresh_summary()

    def action_templates(self) -> None:
        """Fill a communication template from the session (saved into it)."""
        if self.runbook is None or not getattr(self.runbook, "templates", ()):
            self.notify("This runbook has no communication templates.")
            return
        from .templates import TemplatesScreen

        self.app.push_screen(TemplatesScreen(self.session, self.runbook, control=self.control))

    def action_library(self) -> None:
        from .library import LibraryScreen

        while not isinstance(self.app.screen, LibraryScreen) and len(self.app.screen_stack) > 1:
            self.app.pop_screen()

    def action_back(self) -> None:
        self.dismiss()
