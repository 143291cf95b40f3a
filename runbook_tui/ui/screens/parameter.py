"""The parameter form: description, the rules, offered choices; a rejected value says which rule failed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ...core.errors import ParameterError
from ...core.model import Parameter
from ...core.params import validate


def rules_text(param: Parameter) -> str:
    """The rules a value must meet, in words."""
    rules = []
    if param.required and param.default is None:
        rules.append("required")
    if param.pattern:
        rules.append(f"matches {param.pattern}")
    if param.choices:
        rules.append(f"one of {', '.join(param.choices)}")
    if param.example:
        rules.append(f"e.g. {param.example}")
    if param.default is not None:
        rules.append(f"default {param.default}")
    elif param.suggestion is not None:
        rules.append(f"suggested {param.suggestion}")
    return " · ".join(rules)


class ParameterModal(ModalScreen[str | None]):
    """Ask for one parameter; enter validates (every rule applies), escape cancels."""

    CSS_PATH = "modals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="parameter.cancel"),
        Binding("down", "choices", "Choices", show=False, id="parameter.choices"),
    ]

    def __init__(self, param: Parameter, choices: Sequence[str] = ()) -> None:
        super().__init__()
        self.param = param
        self.choices = list(dict.fromkeys([*param.choices, *choices]))
        self.extra_choices = list(choices)

    def compose(self) -> ComposeResult:
        p = self.param
        with Vertical(id="modal-box"):
            yield Static(Content.assemble(("Parameter ", "bold"), (p.name, "bold $accent")), id="modal-title")
            if p.description:
                yield Static(p.description, id="parameter-description", markup=False)
            rules = rules_text(p)
            if rules:
                yield Static(Content.assemble(("rules: ", "$text-muted"), rules), id="parameter-rules")
            yield Input(
                value=p.default if p.default is not None else (p.suggestion or ""),
                placeholder=p.example or p.name,
                password=p.secret,
                id="parameter-input",
            )
            yield Static("", id="modal-error")
            if self.choices:
                yield Static(
                    Content("choices (↓ to pick):").stylize("$text-muted"), id="parameter-choices-label"
                )
                yield OptionList(*[Option(Content(c), id=c) for c in self.choices], id="parameter-choices")
            yield Static(
                Content.assemble(
                    ("enter", "bold $accent"), " use this value   ", ("escape", "bold $accent"), " cancel"
                ),
                id="prompt-hint",
            )

    def on_mount(self) -> None:
        self.query_one("#modal-box").border_title = "needs you"
        self.query_one("#parameter-input", Input).focus()

    def action_choices(self) -> None:
        if self.choices:
            self.query_one("#parameter-choices", OptionList).focus()

    @on(OptionList.OptionSelected, "#parameter-choices")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        field = self.query_one("#parameter-input", Input)
        field.value = str(event.option.id or "")
        field.focus()
        self.submit(field.value)

    @on(Input.Submitted, "#parameter-input")
    def _submitted(self, event: Input.Submitted) -> None:
        self.submit(event.value)

    def submit(self, value: str) -> None:
        """Validate ``value`` against every rule; dismiss with it, or say which rule failed."""
        try:
            good = validate(self.param, value.strip(), choices=self.extra_choices)
        except ParameterError as exc:
            # Plain text, never markup: a pattern like [A-Za-z] is a rule to read, not a style.
            self.query_one("#modal-error", Static).update(Content(str(exc)))
            return
        self.dismiss(good)

    def action_cancel(self) -> None:
        self.dismiss(None)
