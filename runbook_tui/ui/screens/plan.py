"""The plan of the procedure (``p`` on the procedure screen): what would happen, changing nothing.

The same plan as ``runbook-tui plan`` (:mod:`runbook_tui.core.plan`), scrollable at
80x24. ``a`` closes it and runs the procedure (the plan is journalled as reviewed);
escape goes back without running anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from ...core.model import Procedure, Runbook
from ...core.plan import Plan, build_plan, plan_lines


class PlanScreen(ModalScreen[Plan | None]):
    """Shows the plan; dismisses with it when the engineer runs the procedure, None on escape."""

    CSS_PATH = "plan.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "run_all", "Run all", tooltip="Run the procedure as planned", id="plan.run_all"),
        Binding("escape,q", "back", "Back", tooltip="Back, running nothing", id="plan.back"),
    ]

    def __init__(
        self,
        runbook: Runbook,
        procedure: Procedure,
        *,
        workdir: Path,
        params: Mapping[str, str],
        env: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.runbook = runbook
        self.procedure = procedure
        self.workdir = workdir
        self.params = dict(params)
        self.env = env
        self.plan: Plan | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="plan-box"):
            yield Static(Content.assemble(("Plan: ", "bold"), self.procedure.title), id="plan-title")
            with VerticalScroll(id="plan-body"):
                yield Static(Content("Planning (nothing is changed) ..."), id="plan-text")
            yield Static(
                Content.assemble(
                    ("a", "bold $accent"), " run the procedure   ", ("esc", "bold $accent"), " back"
                ),
                id="plan-hint",
            )

    def on_mount(self) -> None:
        self._build()

    @work(exclusive=True, group="plan", exit_on_error=False)
    async def _build(self) -> None:
        plan = await build_plan(
            self.runbook, self.procedure, workdir=self.workdir, params=self.params, env=self.env
        )
        self.plan = plan
        # Content(), not markup: the plan quotes commands and diffs as written.
        self.query_one("#plan-text", Static).update(Content("\n".join(plan_lines(plan))))
        self.query_one("#plan-body", VerticalScroll).focus()

    def action_run_all(self) -> None:
        """Close and run the procedure (only once the plan has been built and shown)."""
        if self.plan is None:
            self.notify("The plan is still being built.", severity="warning")
            return
        self.dismiss(self.plan)

    def action_back(self) -> None:
        self.dismiss(None)
