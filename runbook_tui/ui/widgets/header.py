"""The top bar: where you are, and whether this is live or a drill (visible on every screen)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Label


class RunbookHeader(Horizontal):
    """``runbook-tui › runbook › procedure`` with a LIVE or DRILL label at the right."""

    crumbs: reactive[str] = reactive("", recompose=False)

    def __init__(self, crumbs: str = "", *, drill: bool = False, id: str | None = None) -> None:
        super().__init__(id=id, classes="-drill" if drill else "-live")
        self.drill = drill
        self.set_reactive(RunbookHeader.crumbs, crumbs)

    def compose(self) -> ComposeResult:
        yield Label("runbook-tui", id="header-app")
        yield Label(self._crumbs_text(), id="header-crumbs")
        if self.drill:
            yield Label(" DRILL · sandbox ", id="header-mode", classes="drill")
        else:
            yield Label(" LIVE ", id="header-mode", classes="live")

    def on_mount(self) -> None:
        from ...core import sinks

        try:
            named = bool(sinks.configured())
        except Exception:  # a bad config is said where the journal opens; the header stays quiet
            named = False
        if named:  # only then: a header without sinks looks as it always did
            self.mount(Label("", id="header-sinks"), before="#header-mode")
            self._show_sinks()
            self.set_interval(1.0, self._show_sinks)

    def _show_sinks(self) -> None:
        """``sink ok`` or ``sink syslog-1 down, 12 waiting``: the copy leaving the machine, at a glance."""
        from ...core import sinks

        states = sinks.status()
        if not states:
            text = " sinks: idle "
        elif all(state == "ok" for _n, state in states):
            text = " sinks ok "
        else:
            text = " " + "; ".join(f"{name} {state}" for name, state in states if state != "ok") + " "
        label = self.query_one("#header-sinks", Label)
        label.update(text)
        label.set_class(any(state.startswith("down") for _n, state in states), "-down")

    def _crumbs_text(self) -> Content:
        # Runbook and procedure titles: plain text, never markup.
        return Content(f" › {self.crumbs}" if self.crumbs else "")

    def watch_crumbs(self) -> None:
        if self.is_mounted:
            self.query_one("#header-crumbs", Label).update(self._crumbs_text())
