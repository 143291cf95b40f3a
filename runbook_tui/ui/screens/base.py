"""What every screen shares: the header with the live/drill label and the footer of keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.events import Resize
from textual.screen import Screen
from textual.widgets import Footer

from ..widgets.header import RunbookHeader
from ..widgets.too_small import TooSmall, too_small

if TYPE_CHECKING:
    from ..app import RunbookApp


class BaseScreen(Screen[None]):
    """A screen with our header and footer; drills get the ``-drill`` class everywhere."""

    crumbs = ""

    @property
    def rb_app(self) -> RunbookApp:
        """The app, typed."""
        return cast("RunbookApp", self.app)

    def compose_header(self) -> ComposeResult:
        yield TooSmall(id="too-small", markup=False)
        following = self.rb_app.options.following
        # A follower sees whose session this is on every screen (``runbook-tui follow``).
        crumbs = f"following {following}'s session · {self.crumbs}" if following else self.crumbs
        yield RunbookHeader(crumbs, drill=self.rb_app.drill)

    def compose_footer(self) -> ComposeResult:
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.set_class(self.rb_app.drill, "-drill")
        self._check_size(self.app.size.width, self.app.size.height)

    def on_resize(self, event: Resize) -> None:
        self._check_size(event.size.width, event.size.height)

    def _check_size(self, width: int, height: int) -> None:
        # Every other child is hidden by app.tcss while the class is set.
        small = too_small(width, height)
        self.set_class(small, "-too-small")
        if small:
            self.query_one("#too-small", TooSmall).show_size(width, height)
