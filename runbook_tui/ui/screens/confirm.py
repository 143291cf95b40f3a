"""The confirmation gate: names what will happen, shows an edit's diff, never just Enter.

Everything the engineer confirms (the message, the whole command, the whole diff) is in
one scrollable body, as plain text (never markup). Yes is taken only once the end of
that body has been on screen: at 80x24 a long command or diff must be read to its end.
"""

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
        Binding("pagedown", "page(1)", "Page down", show=False, id="confirm.page_down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="confirm.page_up"),
    ]

    def __init__(
        self,
        *,
        step_id: str,
        title: str,
        message: str,
        diff: str | None = None,
        destructive: bool = False,
        command: str | None = None,
    ) -> None:
        super().__init__(classes="-destructive" if destructive else "")
        self.step_id = step_id
        self.step_title = title
        self.message = message
        self.diff = diff
        self.command = command
        self.destructive = destructive
        self.seen_end = False
        """The end of what is confirmed has been on screen (yes is refused until then)."""

    def compose(self) -> ComposeResult:
        with Vertical(id="modal-box"):
            yield Static(Content.assemble(("Confirm: ", "bold"), (self.step_title, "bold")), id="modal-title")
            with VerticalScroll(id="confirm-body"):
                yield Static(Content(self.message), id="confirm-message")
                if self.command and self.command.strip() != self.message.strip():
                    yield Static(Content.assemble(("$ ", "bold $accent"), self.command), id="confirm-command")
                if self.diff:
                    with Vertical(id="confirm-diff"):
                        yield Static(
                            Syntax(self.diff.rstrip("\n"), "diff", theme="ansi_dark", word_wrap=True),
                            id="confirm-diff-body",
                        )
            yield Static("", id="confirm-more")
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
        body = self.query_one("#confirm-body", VerticalScroll)
        self.watch(body, "scroll_y", self._scrolled, init=False)
        if self.destructive:
            self.query_one("#confirm-input", Input).focus()
        else:
            body.focus()
        self.call_after_refresh(self._scrolled)

    def on_resize(self) -> None:
        self.call_after_refresh(self._scrolled)

    def _scrolled(self) -> None:
        """Note when the end of the body has been on screen; say what is left below until then."""
        body = self.query_one("#confirm-body", VerticalScroll)
        left = body.max_scroll_y - round(body.scroll_y)
        if left <= 0 and body.size.height > 0:
            self.seen_end = True
        more = self.query_one("#confirm-more", Static)
        if self.seen_end:
            more.update("")
            more.display = False
        else:
            more.display = True
            more.update(
                Content.assemble(
                    (f"▼ {left} more line{'s' if left != 1 else ''} below", "bold $warning"),
                    " · read to the end (↓ pgdn end) before yes",
                )
            )

    def action_page(self, direction: int) -> None:
        body = self.query_one("#confirm-body", VerticalScroll)
        if direction > 0:
            body.scroll_page_down(animate=False)
        else:
            body.scroll_page_up(animate=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While typing the step id, "y" and "n" are letters, not answers.
        return not (self.destructive and action == "answer" and parameters == (True,))

    @on(Input.Submitted, "#confirm-input")
    def _typed(self, event: Input.Submitted) -> None:
        if event.value.strip() != self.step_id:
            self.query_one("#modal-error", Static).update(
                Content(f"That is not {self.step_id!r}. Type it exactly, or press escape to decline.")
            )
        elif self._refuse_unread():
            return
        else:
            self.dismiss(True)

    def _refuse_unread(self) -> bool:
        """Yes before the end was on screen: refused, and said (the body is scrolled one page on)."""
        if not self.seen_end:
            self._scrolled()  # what is on screen now (a short body fits at once)
        if self.seen_end:
            return False
        self.notify(
            "Read it to the end first: scroll down (↓, pgdn, end) until the last line has been on screen.",
            title="Not yet",
            severity="warning",
            markup=False,
        )
        if self.destructive:
            self.query_one("#modal-error", Static).update(Content("The end has not been on screen yet."))
        return True

    def action_answer(self, yes: bool) -> None:
        if yes and self._refuse_unread():
            return
        self.dismiss(yes)
