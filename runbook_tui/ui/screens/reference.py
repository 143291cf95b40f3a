"""Reference sections, one key away: roles, contacts, escalation, thresholds, checklists, templates."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static, TabbedContent, TabPane

from ...core.model import Runbook
from .base import BaseScreen

Part = str | tuple[str, str]


def _roles(rb: Runbook) -> list[Part]:
    out: list[Part] = []
    for role in rb.roles:
        out += [(role.role, "bold"), "\n"]
        if role.responsibilities:
            out += [f"  {role.responsibilities}\n"]
    return out


def _contacts(rb: Runbook) -> list[Part]:
    out: list[Part] = []
    for c in rb.contacts:
        out += [(c.role, "bold"), f"  {c.name}", (f"  {c.contact}\n", "$accent")]
    return out


def _escalation(rb: Runbook) -> list[Part]:
    return [p for e in rb.escalation for p in ((f"{e.level}. ", "bold $accent"), f"{e.who}\n")]


def _thresholds(rb: Runbook) -> list[Part]:
    out: list[Part] = []
    for t in rb.alert_thresholds:
        out += [(t.metric, "bold"), "\n"]
        out += [("  warning ", "$text-muted"), (t.warning or "—", "$warning")]
        out += [("  critical ", "$text-muted"), (t.critical or "—", "$error"), "\n"]
        if t.action:
            out += [("  action ", "$text-muted"), f"{t.action}\n"]
    return out


def _checklists(rb: Runbook) -> list[Part]:
    out: list[Part] = []
    for cl in rb.checklists:
        out += [(cl.title, "bold underline"), "\n"]
        group = ""
        for item in cl.items:
            if item.group and item.group != group:
                group = item.group
                out += [(f" {group}\n", "bold $text-muted")]
            out += [f"  ☐ {item.text}\n"]
        out += ["\n"]
    return out


def _templates(rb: Runbook) -> list[Part]:
    out: list[Part] = []
    for t in rb.templates:
        out += [(t.title, "bold underline"), (f"  ({t.audience})\n", "$text-muted"), f"{t.body.rstrip()}\n\n"]
    return out


def _text(rb: Runbook) -> list[Part]:
    out: list[Part] = []
    if rb.description:
        out += [("Overview", "bold underline"), "\n", rb.description.rstrip(), "\n\n"]
    for s in rb.reference:
        out += [(s.title, "bold underline"), "\n", s.body.rstrip(), "\n\n"]
    return out


SECTIONS: tuple[tuple[str, str, Callable[[Runbook], list[Part]]], ...] = (
    ("roles", "Roles", _roles),
    ("contacts", "Contacts", _contacts),
    ("escalation", "Escalation", _escalation),
    ("thresholds", "Alerts", _thresholds),
    ("checklists", "Checklists", _checklists),
    ("templates", "Templates", _templates),
    ("text", "Text", _text),
)


class ReferenceScreen(BaseScreen):
    """The runbook's reference material in tabs; 1-7 switch tabs, escape goes back."""

    CSS_PATH = "reference.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="reference.back"),
        Binding("q", "back", "Back", show=False, id="reference.quit"),
        *[
            Binding(
                str(n),
                f"tab('{key}')",
                "Tabs" if n == 1 else title,
                show=n == 1,
                key_display="1-7" if n == 1 else None,
                id=f"reference.{key}",
            )
            for n, (key, title, _) in enumerate(SECTIONS, 1)
        ],
    ]

    def __init__(self, runbook: Runbook, section: str | None = None) -> None:
        super().__init__()
        self.runbook = runbook
        self.section = section
        self.crumbs = f"{runbook.id} › reference"

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with TabbedContent(id="reference-tabs", initial=f"ref-{self.section or 'roles'}"):
            for key, title, build in SECTIONS:
                parts = build(self.runbook)
                with TabPane(title, id=f"ref-{key}"), VerticalScroll():
                    body = (
                        Content.assemble(*parts)
                        if parts
                        else Content.from_markup("[dim]Not in this runbook.")
                    )
                    yield Static(body, id=f"ref-body-{key}")
        yield from self.compose_footer()

    def action_tab(self, key: str) -> None:
        self.query_one("#reference-tabs", TabbedContent).active = f"ref-{key}"

    def action_back(self) -> None:
        self.dismiss()
