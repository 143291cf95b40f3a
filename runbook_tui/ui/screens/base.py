"""What every screen shares: the header with the live/drill label and the footer of keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from ..widgets.header import RunbookHeader

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
        yield RunbookHeader(self.crumbs, drill=self.rb_app.drill)

    def compose_footer(self) -> ComposeResult:
        yield Footer()

    def on_mount(self) -> None:
        self.set_class(self.rb_app.drill, "-drill")
