"""A manual step: the instructions, then done (with an optional note) or not yet."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ...core.asker import ManualAnswer
from ...core.model import ManualSpec, Step


class ManualModal(ModalScreen[ManualAnswer]):
    """enter (or ctrl+d) ticks it done with the note typed; escape says not done yet."""

    CSS_PATH = "modals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+d", "done", "Done", id="manual.done"),
        Binding("escape", "not_done", "Not done", id="manual.not_done"),
    ]

    def __init__(self, step: Step) -> None:
        super().__init__()
        self.step = step

    def compose(self) -> ComposeResult:
        spec = self.step.spec
        instructions = spec.instructions if isinstance(spec, ManualSpec) else ""
        with Vertical(id="modal-box"):
            yield Static(Content.assemble(("By hand: ", "bold"), (self.step.title, "bold")), id="modal-title")
            if instructions or self.step.description:
                yield Static(instructions or self.step.description, id="manual-instructions", markup=False)
            yield Input(placeholder="optional note: what you did, what you saw", id="manual-note")
            yield Static(
                Content.assemble(
                    ("enter", "bold $accent"), " done   ", ("escape", "bold $accent"), " not done yet"
                ),
                id="prompt-hint",
            )

    def on_mount(self) -> None:
        self.query_one("#modal-box").border_title = "needs you"
        self.query_one("#manual-note", Input).focus()

    @on(Input.Submitted, "#manual-note")
    def _submitted(self) -> None:
        self.action_done()

    def action_done(self) -> None:
        self.dismiss(ManualAnswer(True, self.query_one("#manual-note", Input).value.strip()))

    def action_not_done(self) -> None:
        self.dismiss(ManualAnswer(False, self.query_one("#manual-note", Input).value.strip()))
