"""A one-line prompt for a reason or a note; an empty answer is refused when one is required."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class TextPrompt(ModalScreen[str | None]):
    """Ask for a line of text: a skip reason, a note, what was done by hand."""

    CSS_PATH = "modals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel"),
    ]

    def __init__(self, title: str, prompt: str, *, required: bool = True, placeholder: str = "") -> None:
        super().__init__()
        self.prompt_title = title
        self.prompt = prompt
        self.required = required
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="modal-box"):
            yield Static(Content(self.prompt_title).stylize("bold"), id="modal-title")
            yield Static(self.prompt, id="prompt-text", markup=False)
            yield Input(placeholder=self.placeholder, id="prompt-input")
            yield Static("", id="modal-error")
            yield Static(
                Content.assemble(
                    ("enter", "bold $accent"), " save   ", ("escape", "bold $accent"), " cancel"
                ),
                id="prompt-hint",
            )

    def on_mount(self) -> None:
        self.query_one("#prompt-input", Input).focus()

    @on(Input.Submitted, "#prompt-input")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if self.required and not text:
            self.query_one("#modal-error", Static).update("A reason is required: say why, in a few words.")
            return
        self.dismiss(text)

    def action_cancel(self) -> None:
        self.dismiss(None)
