"""Leaving a session: say what is running, and record how the session ended."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


class QuitModal(ModalScreen[str | None]):
    """``a`` aborts (cancels what runs), ``f`` finishes (nothing running), escape stays."""

    CSS_PATH = "modals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "choose('abort')", "Abort session", id="quit.abort"),
        Binding("f", "choose('finish')", "Finish session", id="quit.finish"),
        Binding("escape", "choose(None)", "Stay", id="quit.stay"),
    ]

    def __init__(self, running: Sequence[str], *, quitting: bool) -> None:
        super().__init__()
        self.running_titles = list(running)
        self.quitting = quitting

    def compose(self) -> ComposeResult:
        then = " and quit" if self.quitting else ""
        with Vertical(id="modal-box"):
            if self.running_titles:
                yield Static(
                    Content.assemble(("Running now: ", "bold $error"), ", ".join(self.running_titles)),
                    id="modal-title",
                )
                yield Static(
                    Content.assemble(
                        ("a", "bold $accent"),
                        f"  cancel it, record the session as aborted{then}\n",
                        ("escape", "bold $accent"),
                        "  stay and let it run",
                    ),
                    id="quit-choices",
                )
            else:
                yield Static(Content("End this session?").stylize("bold"), id="modal-title")
                yield Static(
                    Content.assemble(
                        ("f", "bold $accent"),
                        f"  finish: record the outcome as the steps stand{then}\n",
                        ("a", "bold $accent"),
                        f"  abort: record the session as aborted{then}\n",
                        ("escape", "bold $accent"),
                        "  stay",
                    ),
                    id="quit-choices",
                )

    def on_mount(self) -> None:
        self.query_one("#modal-box").border_title = "quit" if self.quitting else "end session"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # With a step running, "finish" would lie about it: only abort or stay.
        return not (action == "choose" and parameters == ("finish",) and self.running_titles)

    def action_choose(self, choice: str | None) -> None:
        self.dismiss(choice)
