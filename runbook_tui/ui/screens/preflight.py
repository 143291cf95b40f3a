"""The pre-flight, before the first step: what is missing here, and go on or stop."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static


class PreflightModal(ModalScreen[bool]):
    """Lists the pre-flight's findings. ``g`` goes on (True); ``s`` or escape stops (False)."""

    CSS_PATH = "preflight.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("g", "answer(True)", "Go on anyway", id="preflight.go"),
        Binding("s,escape", "answer(False)", "Stop", id="preflight.stop"),
    ]

    def __init__(self, findings: Sequence[str]) -> None:
        super().__init__()
        self.findings = list(findings)

    def compose(self) -> ComposeResult:
        count = len(self.findings)
        with Vertical(id="preflight-box"):
            yield Static(
                Content.assemble(
                    ("Pre-flight: ", "bold"), (f"{count} problem(s) before the first step", "bold")
                ),
                id="preflight-title",
            )
            with VerticalScroll(id="preflight-list"):
                for line in self.findings:
                    # Content(), not markup: a finding quotes runbook text ($VAR, [x]) as written.
                    yield Static(Content("• " + line), classes="preflight-finding")
            yield Static(
                Content.assemble(
                    ("g", "bold $accent"),
                    " go on anyway (recorded in the journal)   ",
                    ("s", "bold $accent"),
                    " stop: end the session before any step runs",
                ),
                id="preflight-hint",
            )

    def action_answer(self, go_on: bool) -> None:
        """Close with the engineer's choice."""
        self.dismiss(go_on)
