"""Shown instead of a broken layout when the terminal is smaller than 80x24."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.screen import ModalScreen
from textual.widgets import Static

MIN_WIDTH, MIN_HEIGHT = 80, 24


class TooSmallScreen(ModalScreen[None]):
    """Covers everything with a message until the terminal is big enough again."""

    CSS_PATH = "too_small.tcss"

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(self.message(), id="too-small-message")

    def message(self) -> str:
        width, height = self.app.size
        return (
            f"The terminal is {width}x{height}.\n"
            f"runbook-tui needs at least {MIN_WIDTH}x{MIN_HEIGHT}.\n\n"
            "Enlarge the window (or zoom out); nothing is lost meanwhile:\n"
            "running steps go on and everything is in the journal."
        )

    def on_resize(self) -> None:
        self.query_one("#too-small-message", Static).update(self.message())
