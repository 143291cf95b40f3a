"""The checklist: pre-checks, steps and verification, each with its state glyph and duration."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from ...core.events import StepStatus
from ...core.journal.fold import StepState
from ...core.model import Procedure, Step
from ..format import GLYPH, LABEL, STATUS_STYLE, duration_text

PHASES = (("prechecks", "Pre-checks"), ("steps", "Steps"), ("verification", "Verification"))


def step_prompt(number: int, step: Step, state: StepState, width: int = 30) -> Content:
    """``✔ 3 Stop the api service   2.1s`` in the state's colour."""
    status = state.status
    glyph = GLYPH[status]
    duration = duration_text(state.duration)
    if status is StepStatus.RUNNING:
        duration = ""  # the glyph says it; a duration comes when it ends
    marks = ("!" if step.destructive else "") + ("✎" if step.is_edit else "")
    suffix = (1 + len(marks) if marks else 0) + (1 + len(duration) if duration else 0)
    title_room = max(8, width - 6 - suffix)
    title = step.title if len(step.title) <= title_room else step.title[: title_room - 1] + "…"
    style = STATUS_STYLE[status]
    return Content.assemble(
        (f"{glyph} ", style),
        (f"{number:>2} ", "$text-muted"),
        (title, style if status is not StepStatus.PENDING else ""),
        (f" {marks}" if marks else "", "$warning"),
        (f" {duration}" if duration else "", "$text-muted"),
    )


class StepList(OptionList):
    """One option per step (ids are step ids), with disabled headings between phases."""

    def __init__(self, procedure: Procedure, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.procedure = procedure
        self.numbers: dict[str, int] = {}
        self.states: dict[str, StepState] = {}
        self.steps: dict[str, Step] = {}
        options: list[Option] = []
        number = 0
        for attr, heading in PHASES:
            group: tuple[Step, ...] = getattr(procedure, attr)
            if not group:
                continue
            options.append(Option(Content(heading).stylize("bold $text-muted"), id=f"§{attr}", disabled=True))
            for step in group:
                number += 1
                self.numbers[step.id] = number
                self.steps[step.id] = step
                options.append(Option(step_prompt(number, step, StepState(step.id)), id=step.id))
        self.add_options(options)

    def on_mount(self) -> None:
        first = next(iter(self.steps), None)
        if first is not None:
            self.highlighted = self.get_option_index(first)

    @property
    def selected_step(self) -> Step | None:
        """The step under the cursor."""
        index = self.highlighted
        if index is None:
            return None
        option_id = self.get_option_at_index(index).id
        return self.steps.get(option_id or "")

    def show_state(self, state: StepState) -> None:
        """Re-render one step's line."""
        step = self.steps.get(state.step_id)
        if step is None:
            return
        self.states[step.id] = state
        width = max(20, self.size.width - 1)
        self.replace_option_prompt(step.id, step_prompt(self.numbers[step.id], step, state, width))

    def on_resize(self) -> None:
        # Titles are cut to the width: re-cut them when it changes.
        width = max(20, self.size.width - 1)
        for step_id, step in self.steps.items():
            state = self.states.get(step_id) or StepState(step_id)
            self.replace_option_prompt(step_id, step_prompt(self.numbers[step_id], step, state, width))

    def select_step(self, step_id: str) -> None:
        """Move the cursor to ``step_id``."""
        if step_id in self.steps:
            self.highlighted = self.get_option_index(step_id)


def status_label(status: StepStatus) -> str:
    """``needs you`` for NEEDS_YOU, and so on."""
    return LABEL[status]
