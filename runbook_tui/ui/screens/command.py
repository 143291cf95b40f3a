"""The whole of a step's command, scrollable: what the step detail had to cut at this size."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


class CommandModal(ModalScreen[None]):
    """Every line of ``command`` (plain text, never markup); escape or v closes it."""

    CSS_PATH = "modals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="command.close"),
        Binding("v", "close", "Close", show=False, id="command.close_v"),
    ]

    def __init__(self, title: str, command: str) -> None:
        super().__init__()
        self.command_title = title
        self.command = command

    def compose(self) -> ComposeResult:
        with Vertical(id="modal-box"):
            yield Static(Content(self.command_title).stylize("bold"), id="modal-title")
            with VerticalScroll(id="command-body"):
                yield Static(Content(self.command), id="command-text")
            yield Static(
                Content.assemble(
                    ("↑ ↓ pgup pgdn", "bold $accent"), " scroll   ", ("escape", "bold $accent"), " close"
                ),
                id="prompt-hint",
            )

    def on_mount(self) -> None:
        self.query_one("#modal-box").border_title = "whole command"
        self.query_one("#command-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)
