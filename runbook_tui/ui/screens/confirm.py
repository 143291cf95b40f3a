"""The confirmation gate: names what will happen, shows an edit's diff, never just Enter."""

from __future__ import annotations

from typing import ClassVar

from rich.syntax import Syntax
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class ConfirmModal(ModalScreen[bool]):
    """``y`` confirms; a destructive step needs its id typed. ``n`` or escape declines."""

    CSS_PATH = "modals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes, do it", id="confirm.yes"),
        Binding("n", "answer(False)", "No", id="confirm.no"),
        Binding("escape", "answer(False)", "Cancel", id="confirm.cancel"),
    ]

    def __init__(
        self, *, step_id: str, title: str, message: str, diff: str | None = None, destructive: bool = False
    ) -> None:
        super().__init__(classes="-destructive" if destructive else "")
        self.step_id = step_id
        self.step_title = title
        self.message = message
        self.diff = diff
        self.destructive = destructive

    def compose(self) -> ComposeResult:
        with Vertical(id="modal-box"):
            yield Static(Content.assemble(("Confirm: ", "bold"), (self.step_title, "bold")), id="modal-title")
            yield Static(self.message, id="confirm-message", markup=False)
            if self.diff:
                with VerticalScroll(id="confirm-diff"):
                    yield Static(
                        Syntax(self.diff.rstrip("\n"), "diff", theme="ansi_dark", word_wrap=False),
                        id="confirm-diff-body",
                    )
            if self.destructive:
                yield Static(
                    Content.assemble(
                        ("This step is destructive. ", "bold $error"),
                        "Type the step id ",
                        (self.step_id, "bold reverse"),
                        " and press enter to go ahead; escape declines.",
                    ),
                    id="confirm-hint",
                )
                yield Input(placeholder=self.step_id, id="confirm-input")
                yield Static("", id="modal-error")
            else:
                yield Static(
                    Content.assemble(
                        ("y", "bold $accent"), " do it   ", ("n", "bold $accent"), " / escape: do not"
                    ),
                    id="confirm-hint",
                )

    def on_mount(self) -> None:
        self.query_one("#modal-box").border_title = "destructive step" if self.destructive else "confirm"
        if self.destructive:
            self.query_one("#confirm-input", Input).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While typing the step id, "y" and "n" are letters, not answers.
        return not (self.destructive and action == "answer" and parameters == (True,))

    @on(Input.Submitted, "#confirm-input")
    def _typed(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.step_id:
            self.dismiss(True)
        else:
            self.query_one("#modal-error", Static).update(
                f"That is not {self.step_id!r}. Type it exactly, or press escape to decline."
            )

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
