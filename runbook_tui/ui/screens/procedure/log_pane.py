"""The log pane: the selected step's output, its search bar and the line under it.

The lines come from the screen (which keeps every step's lines in the output buffer);
this pane shows them, searches them, and says how many there are and where the rest is.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Input, Static

from ...widgets.log_view import LogView
from .output import LOG_MAX_LINES


class LogPane(Vertical):
    """The log (``#log``), the search bar (``/``) and the note (``#log-note``)."""

    def __init__(self, *, refresh_rate: float, low_bandwidth: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self._refresh_rate = refresh_rate
        self._low_bandwidth = low_bandwidth

    def compose(self) -> ComposeResult:
        yield LogView(
            max_lines=LOG_MAX_LINES,
            refresh_rate=self._refresh_rate,
            low_bandwidth=self._low_bandwidth,
            id="log",
        )
        with Horizontal(id="search-bar"):
            yield Static("find", id="search-label")
            yield Input(placeholder="text in the output; enter = next, escape = close", id="search")
        yield Static(id="log-note")

    def on_mount(self) -> None:
        self.query_one("#search-bar").display = False

    @property
    def view(self) -> LogView:
        """The log view itself."""
        return self.query_one("#log", LogView)

    def show(self, lines: list[str], *, streaming: bool) -> None:
        """Replace what the log shows with ``lines``, on screen now (not on the refresh budget)."""
        log = self.view
        log.clear()
        log.set_streaming(streaming)
        if lines:
            log.write_lines(lines)
        log.flush()

    def note(self, text: Content) -> None:
        """The line under the log."""
        self.query_one("#log-note", Static).update(text)

    def open_search(self) -> None:
        """Show the search bar and type in it."""
        self.query_one("#search-bar").display = True
        self.set_class(True, "-searching")
        self.query_one("#search", Input).focus()

    def close_search(self) -> bool:
        """Hide the search bar; False when it was not open."""
        bar = self.query_one("#search-bar")
        if not bar.display:
            return False
        bar.display = False
        self.set_class(False, "-searching")
        return True

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.view.search(event.value)  # the event goes on up: the screen rewrites the note

    @on(Input.Submitted, "#search")
    def _search_next(self) -> None:
        if self.view.next_match() is None:
            self.notify("No match in the kept lines (the journal has them all).")
