"""Communication templates: filled from the session, finished by hand, copied and saved.

``core/templates.py`` fills what the session knows (rollback type, who, why, impact,
status); the engineer edits the remaining ``[blanks]`` in a text area, copies the
text with OSC 52 (the terminal at the engineer's end takes it, so it works over
SSH with no display here) and saves it into the session as a ``template_filled``
event, which the report shows.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import OptionList, Static, TextArea
from textual.widgets.option_list import Option

from ...core.journal.fold import SessionState
from ...core.model import Runbook, Template
from ...core.osc52 import osc52_copy
from ...core.session_view import SessionControl, SessionView
from ...core.templates import TemplateFacts, facts_for, fill
from .base import BaseScreen


def facts_from(state: SessionState, runbook: Runbook) -> TemplateFacts:
    """What the session knows that a template asks for."""
    decision = state.decision
    return facts_for(
        procedure_title=state.procedure_title,
        operator=state.operator,
        outcome=state.outcome,
        decision_row_id=decision.row_id if decision else None,
        decision_issue=decision.issue if decision else "",
        first_note=state.notes[0].text if state.notes else "",
        runbook=runbook,
    )


def blanks(template: Template, text: str) -> tuple[str, ...]:
    """The ``[Field]``s still in ``text`` (the same rule the filling uses)."""
    edited = Template(template.id, template.title, text, template.audience)
    return fill(edited, TemplateFacts()).missing


def copy_to_terminal(app: App[Any], text: str) -> None:
    """Copy with OSC 52; inside tmux also through its passthrough, to reach the outer terminal."""
    app.copy_to_clipboard(text)  # OSC 52 (tmux takes this one with set-clipboard on)
    driver = getattr(app, "_driver", None)
    if os.environ.get("TMUX") and driver is not None:
        driver.write(osc52_copy(text, tmux=True))  # with allow-passthrough on


class TemplatesScreen(BaseScreen):
    """Pick a template, edit its blanks, ``c`` copies, ``s`` (or ctrl+s) saves it into the session."""

    CSS_PATH = "templates.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e", "edit", "Edit", tooltip="Edit the template's text", id="templates.edit"),
        Binding("c", "copy", "Copy", tooltip="Copy to the clipboard (OSC 52)", id="templates.copy"),
        Binding("s", "save", "Save", tooltip="Save into the session", id="templates.save"),
        Binding("ctrl+s", "save", "Save", show=False, id="templates.save_anywhere"),
        Binding("escape", "back", "Back", id="templates.back"),
    ]

    def __init__(
        self, session: SessionView, runbook: Runbook, *, control: SessionControl | None = None
    ) -> None:
        super().__init__()
        self.session = session
        self.control = control  # None: a followed session, whose templates are not saved from here
        self.runbook = runbook
        self.crumbs = f"{runbook.id} › templates"
        self.templates = {t.id: t for t in runbook.templates}
        self.texts: dict[str, str] = {}  # the text being edited, per template
        self.current: str | None = None

    @property
    def state(self) -> SessionState:
        return self.session.state

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Horizontal(id="templates-body"):
            with Vertical(id="templates-list-box"):
                yield OptionList(id="templates-list")
            with Vertical(id="template-box"):
                yield TextArea(id="template-text", soft_wrap=True, tab_behavior="focus")
                yield Static(id="template-blanks")
                yield Static(id="template-status")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#templates-list-box").border_title = "Templates"
        facts = facts_from(self.state, self.runbook)
        saved = self.state.templates
        for template in self.runbook.templates:
            self.texts[template.id] = saved.get(template.id) or fill(template, facts).text
        listing = self.query_one("#templates-list", OptionList)
        listing.add_options([Option(self._label(t), id=t.id) for t in self.runbook.templates])
        if not self.templates:
            self.query_one("#template-status", Static).update("This runbook has no communication templates.")
            self.query_one("#template-text", TextArea).display = False
            return
        listing.highlighted = 0
        listing.focus()
        self._show(self.runbook.templates[0].id)

    def _label(self, template: Template) -> Content:
        saved = self.state.templates.get(template.id)
        mark = ("✔ ", "$success") if saved is not None else ("  ", "")
        return Content.assemble(mark, template.title)  # the audience is on the text's frame

    # --- showing one template ------------------------------------------------

    def _show(self, template_id: str) -> None:
        area = self.query_one("#template-text", TextArea)
        if self.current is not None:
            self.texts[self.current] = area.text
        self.current = template_id
        template = self.templates[template_id]
        area.load_text(self.texts[template_id])
        box = self.query_one("#template-box")
        box.border_title = Content(template.title)
        box.border_subtitle = Content(template.audience)
        self._update_notes()

    def _update_notes(self, status: Content | None = None) -> None:
        template = self.templates.get(self.current or "")
        if template is None:
            return
        text = self.query_one("#template-text", TextArea).text
        missing = blanks(template, text)
        if missing:
            shown = ", ".join(missing)
            note = Content.assemble(("still to fill: ", "bold $warning"), shown)
        else:
            note = Content("every field is filled").stylize("$success")
        self.query_one("#template-blanks", Static).update(note)
        if status is None:
            saved = self.state.templates.get(template.id)
            if saved is None:
                status = Content("not saved in the session yet").stylize("$text-muted")
            elif saved == text:
                status = Content("saved in the session").stylize("$success")
            else:
                status = Content("edited since it was saved (s saves)").stylize("$warning")
        self.query_one("#template-status", Static).update(status)

    @on(OptionList.OptionHighlighted, "#templates-list")
    def _picked(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.current:
            self._show(event.option.id)

    @on(OptionList.OptionSelected, "#templates-list")
    def _chosen(self) -> None:
        self.action_edit()

    @on(TextArea.Changed, "#template-text")
    def _edited(self) -> None:
        self._update_notes()

    # --- intents ----------------------------------------------------------------

    @property
    def text(self) -> str:
        """The text of the template shown, as edited."""
        return self.query_one("#template-text", TextArea).text

    def action_edit(self) -> None:
        if self.current is not None:
            self.query_one("#template-text", TextArea).focus()

    def action_copy(self) -> None:
        """Copy the text as it stands (blanks and all) to the engineer's clipboard."""
        if self.current is None:
            return
        copy_to_terminal(self.app, self.text)
        self._update_notes(
            Content.assemble(
                ("copied ", "$success"),
                f"{len(self.text)} characters with OSC 52 (your terminal puts them on its clipboard)",
            )
        )

    def action_save(self) -> None:
        """Save the text into the session (a template_filled event); refusals are shown."""
        template = self.templates.get(self.current or "")
        if template is None:
            return
        text = self.text
        if not text.strip():
            self.notify("The template is empty; nothing was saved.", severity="warning")
            return
        try:
            if self.control is None:
                raise RuntimeError("this session is followed read-only: it runs elsewhere")
            self.control.fill_template(template.id, text)
        except Exception as exc:  # the engine refuses with a message
            self.notify(str(exc), title="Not saved", severity="error", timeout=10)
            return
        listing = self.query_one("#templates-list", OptionList)
        listing.replace_option_prompt(template.id, self._label(template))
        missing = blanks(template, text)
        when = datetime.fromtimestamp(self.rb_app.clock()).astimezone().strftime("%H:%M")
        left = f"; {len(missing)} field{'s' if len(missing) > 1 else ''} still to fill" if missing else ""
        self._update_notes(Content.assemble(("saved in the session ", "$success"), f"at {when}{left}"))
        self.notify(f"{template.title} saved in the session{left}.")

    def action_back(self) -> None:
        area = self.query_one("#template-text", TextArea)
        if area.has_focus:
            self.query_one("#templates-list", OptionList).focus()
            return
        self.dismiss()
