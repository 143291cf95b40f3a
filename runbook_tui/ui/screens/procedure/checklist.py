"""The checklist: the procedure's steps on the left of the run screen, with its mode and window."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content

from ....core.model import Procedure
from ...format import window_text
from ...widgets.step_list import StepList


class Checklist(Vertical):
    """The box around the step list (``#steps``): "Checklist · live", the recovery window under it."""

    def __init__(self, procedure: Procedure, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.procedure = procedure

    def compose(self) -> ComposeResult:
        yield StepList(self.procedure, id="steps")

    @property
    def step_list(self) -> StepList:
        """The steps, one line each; the cursor selects the step shown on the right."""
        return self.query_one("#steps", StepList)

    def on_mount(self) -> None:
        self.border_title = "Checklist"
        self.border_subtitle = Content(f"window {window_text(self.procedure.window)}")

    def show_mode(self, mode: str, *, resumed: bool = False) -> None:
        """Say the session's mode (live or drill), and that it was resumed."""
        self.border_title = Content(f"Checklist · {mode}" + (" · resumed" if resumed else ""))
