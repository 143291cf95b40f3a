"""The watch pane: a watch step streams here while the engineer goes on with later steps."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content

from ...widgets.log_view import LogView
from .output import LOG_MAX_LINES


class WatchPane(Vertical):
    """The running (or last) watch step's output, under the log; hidden until a watch starts."""

    def __init__(self, *, refresh_rate: float, low_bandwidth: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self._refresh_rate = refresh_rate
        self._low_bandwidth = low_bandwidth

    def compose(self) -> ComposeResult:
        yield LogView(
            max_lines=LOG_MAX_LINES,
            refresh_rate=self._refresh_rate,
            low_bandwidth=self._low_bandwidth,
            id="watch-log",
        )

    def on_mount(self) -> None:
        self.display = False

    @property
    def view(self) -> LogView:
        """The watch step's log view."""
        return self.query_one("#watch-log", LogView)

    def show_watch(self, title: str, lines: list[str]) -> None:
        """Show a watch step (just started), with the lines it has so far."""
        self.display = True
        self.border_title = Content(f"watch · {title}")
        log = self.view
        log.clear()
        log.write_lines(lines)

    def show_finished(self, title: str, label: str) -> None:
        """The watch step ended: its state in the title, its lines kept."""
        self.border_title = Content(f"watch · {title} · {label}")

    def focus_log(self) -> None:
        """Move to the watch log, when a watch is shown."""
        if self.display:
            self.view.focus()
