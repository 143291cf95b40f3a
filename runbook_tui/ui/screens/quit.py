"""Leaving a session: say what is running, and record how the session ended (or that it did not)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


def choices(*pairs: tuple[str, str]) -> Content:
    """One choice a line: the key in the accent colour, its text aligned (continuations too)."""
    # The box holds 72 columns: a line that wrapped would lose the alignment, so texts are
    # cut by hand ("\n") to fit in 72 less this key column.
    width = max(len(key) for key, _ in pairs) + 1  # the widest key and a space
    parts: list[str | tuple[str, str]] = []
    for key, what in pairs:
        first, *more = what.split("\n")
        parts += [(key, "bold $accent"), " " * (width - len(key)), first]
        parts += ["\n" + " " * width + line for line in more]
        parts.append("\n")
    parts.pop()
    return Content.assemble(*parts)


class QuitModal(ModalScreen[str | None]):
    """How to leave: ``l``/enter leaves the session open (quitting), ``a`` aborts, ``f`` finishes
    (nothing running), escape stays. The dismissed value is ``leave``, ``abort``, ``finish`` or None.
    """

    CSS_PATH = "modals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l,enter", "choose('leave')", "Leave open", id="quit.leave"),
        Binding("a", "choose('abort')", "Abort session", id="quit.abort"),
        Binding("f", "choose('finish')", "Finish session", id="quit.finish"),
        Binding("escape", "choose(None)", "Stay", id="quit.stay"),
    ]

    def __init__(self, running: Sequence[str], *, quitting: bool) -> None:
        super().__init__()
        self.running_titles = list(running)
        self.quitting = quitting

    def compose(self) -> ComposeResult:
        with Vertical(id="modal-box"):
            if self.running_titles:
                yield Static(
                    Content.assemble(("Running now: ", "bold $error"), ", ".join(self.running_titles)),
                    id="modal-title",
                )
            else:
                yield Static(Content("End this session?").stylize("bold"), id="modal-title")
            yield Static(choices(*self._choices()), id="quit-choices")

    def _choices(self) -> list[tuple[str, str]]:
        then = ", and quit" if self.quitting else ""
        many = len(self.running_titles) > 1
        it, goes = ("them", "they go") if many else ("it", "it goes")
        offered: list[tuple[str, str]] = []
        if self.quitting and self.running_titles:
            # First and on enter: at a handover nothing is marked failed, and nothing runs twice.
            offered.append(
                (
                    "l or enter",
                    f"leave the session open: stop {it}, mark nothing failed, quit;\n"
                    f"'runbook-tui resume' asks to re-run {it} or mark {it} done",
                )
            )
        elif self.quitting:
            offered.append(
                ("l or enter", "leave the session open and quit:\n'runbook-tui resume' continues it")
            )
        if self.running_titles:
            offered.append(("a", f"abort: cancel {it}, record the session as aborted{then}"))
            offered.append(("escape", f"keep working: stay, and {goes} on running"))
        else:
            offered.append(("f", f"finish: record the outcome as the steps stand{then}"))
            offered.append(("a", f"abort: record the session as aborted{then}"))
            offered.append(("escape", "stay"))
        return offered

    def on_mount(self) -> None:
        self.query_one("#modal-box").border_title = "quit" if self.quitting else "end session"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action != "choose":
            return True
        # With a step running, "finish" would lie about it; leaving open is for quitting only
        # (the run screen cannot stay on a session it no longer records).
        if parameters == ("finish",):
            return not self.running_titles
        if parameters == ("leave",):
            return self.quitting
        return True

    def action_choose(self, choice: str | None) -> None:
        self.dismiss(choice)
