"""Small keyboard-only prompts for the record (issue 17): impact start, action items, roles, handoff.

One modal, :class:`FieldsPrompt`, asks for a few labelled lines; ``check`` turns the
answers into a value or says what is wrong (the error stays on screen, the answers
too). The actions below push it and hand the value to the session or the app.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ...core.errors import UsageError
from ...core.evidence import ROLE_TITLES, check_text, parse_due, parse_impact_time

if TYPE_CHECKING:
    from .procedure import ProcedureScreen

Check = Callable[[dict[str, str]], Any]


class FieldsPrompt(ModalScreen[Any]):
    """Ask for a few lines of text; enter saves (when ``check`` accepts them), escape cancels."""

    CSS_PATH: ClassVar[list[str | PurePath]] = ["modals.tcss", "evidence.tcss"]
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="fields.cancel")]

    def __init__(
        self, title: str, prompt: str, fields: list[tuple[str, str, str]], check: Check, hint: str = ""
    ) -> None:
        """``fields`` are (name, label, initial value)."""
        super().__init__()
        self.prompt_title, self.prompt, self.fields, self.check, self.hint = (
            title,
            prompt,
            fields,
            check,
            hint,
        )

    def compose(self) -> ComposeResult:
        with Vertical(id="modal-box"):
            yield Static(Content(self.prompt_title).stylize("bold"), id="modal-title")
            if self.prompt:
                yield Static(self.prompt, id="prompt-text", markup=False)
            for name, label, value in self.fields:
                yield Static(label, classes="field-label", markup=False)
                yield Input(value=value, id=f"field-{name}")
            yield Static("", id="modal-error")
            yield Static(
                Content.assemble(
                    ("enter", "bold $accent"),
                    " save   ",
                    ("tab", "bold $accent"),
                    " next   ",
                    ("escape", "bold $accent"),
                    " cancel",
                    (f"   {self.hint}" if self.hint else "", "$text-muted"),
                ),
                id="prompt-hint",
            )

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        answers = {name: self.query_one(f"#field-{name}", Input).value for name, _l, _v in self.fields}
        try:
            value = self.check(answers)
        except UsageError as exc:
            self.query_one("#modal-error", Static).update(Content(str(exc)))
            return
        self.dismiss(value)

    def action_cancel(self) -> None:
        self.dismiss(None)


def impact_prompt(alert_at: float | None, now: Callable[[], float] = time.time) -> FieldsPrompt:
    """When did impact start? Empty = now; ``a`` = the alert time (when a live signal matched)."""
    alert = time.strftime("%H:%M", time.localtime(alert_at)) if alert_at is not None else ""
    quick = f"empty = now, a = alert {alert}" if alert else "empty = now"

    def check(answers: dict[str, str]) -> tuple[float, str]:
        text = answers["when"].strip().lower()
        if not text or text == "now":
            return now(), "now"
        if text in ("a", "alert"):
            if alert_at is None:
                raise UsageError("no alert time is known here (no live signal matched); type a time")
            return alert_at, "alert time"
        return parse_impact_time(text, now(), what="impact start"), "engineer"

    return FieldsPrompt(
        "When did impact start?",
        "The report measures detect/acknowledge/mitigate/resolve from it; the recovery window does not move.",
        [("when", f"{quick}; or -25m, 03:12, 2026-11-27T03:12Z", "")],
        check,
    )


def action_item_prompt(owner: str) -> FieldsPrompt:
    """An action item: what, who owns it, due when."""

    def check(answers: dict[str, str]) -> tuple[str, str, str]:
        return (
            check_text(answers["text"], "the action item"),
            check_text(answers["owner"], "its owner"),
            parse_due(answers["due"]),
        )

    return FieldsPrompt(
        "Action item",
        "A follow-up for after the incident (recorded in the journal and every report).",
        [
            ("text", "What is to be done", ""),
            ("owner", "Owner", owner),
            ("due", "Due (YYYY-MM-DD, optional)", ""),
        ],
        check,
    )


def roles_prompt(current: dict[str, str]) -> FieldsPrompt:
    """Who is incident commander, operator, communications."""
    names = ("incident_commander", "operator", "communications")

    def check(answers: dict[str, str]) -> dict[str, str]:
        return {k: " ".join(v.split()) for k, v in answers.items() if v.strip()}

    return FieldsPrompt(
        "Roles", "", [(n, ROLE_TITLES[n], current.get(n, "")) for n in names], check, "empty = unchanged"
    )


def handoff_prompt() -> FieldsPrompt:
    """Hand the session over to someone."""

    def check(answers: dict[str, str]) -> str:
        return check_text(answers["to"], "who takes over")

    return FieldsPrompt(
        "Hand over", "Who takes over from you? (recorded with what is running)", [("to", "Name", "")], check
    )


def evidence_action(screen: ProcedureScreen, what: str) -> None:
    """On the run screen: ``impact``, ``action``, ``roles`` or ``handoff`` asked, then journalled.

    ``screen.control`` is the session to record in (None before one starts); the engine's
    refusals are shown, never raised.
    """
    session = screen.control
    if session is None:
        screen.notify(
            "Start the session first (r or a): this is recorded in its journal.", severity="warning"
        )
        return

    def record(call: Callable[[], object], said: str) -> None:
        try:
            call()
        except Exception as exc:  # the engine refuses with a message
            screen.notify(str(exc), severity="error", timeout=8)
        else:
            screen.notify(said)

    if what == "impact":

        def got_impact(value: tuple[float, str] | None) -> None:
            if value is not None:
                at, source = value
                when = time.strftime("%H:%M:%S", time.localtime(at))
                record(lambda: session.set_impact_started(at, source), f"Impact start recorded: {when}.")

        screen.app.push_screen(impact_prompt(None), got_impact)
    elif what == "action":

        def got_item(value: tuple[str, str, str] | None) -> None:
            if value is not None:
                text, owner, due = value
                record(
                    lambda: session.add_action_item(text, owner, due), f"Action item for {owner} recorded."
                )

        screen.app.push_screen(action_item_prompt(""), got_item)
    elif what == "roles":

        def got_roles(value: dict[str, str] | None) -> None:
            if value:
                record(lambda: session.set_roles(value), "Roles recorded.")

        screen.app.push_screen(roles_prompt(dict(session.state.roles)), got_roles)
    elif what == "handoff":

        def got_to(value: str | None) -> None:
            if value:
                record(lambda: session.handoff(value), f"Handed over to {value}.")

        screen.app.push_screen(handoff_prompt(), got_to)
