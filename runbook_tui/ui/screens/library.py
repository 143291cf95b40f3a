"""The library: every runbook found, filtered as you type; Enter opens one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Protocol

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ...core.errors import Problem
from ...core.model import Runbook
from ..format import window_text
from .base import BaseScreen


class EntryLike(Protocol):
    """What the library screen needs from ``core.library.RunbookEntry``."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def path(self) -> Path | str: ...
    @property
    def source(self) -> str: ...
    @property
    def runbook(self) -> Runbook | None: ...
    @property
    def problems(self) -> Sequence[Problem]: ...


def matches(entry: EntryLike, query: str) -> bool:
    """Every word of ``query`` appears in the id, title, tags or a procedure title."""
    hay = [entry.id, entry.title, entry.source]
    if entry.runbook is not None:
        hay += list(entry.runbook.tags) + [p.title for p in entry.runbook.procedures]
        hay += [p.id for p in entry.runbook.procedures]
    text = " ".join(hay).lower()
    return all(word in text for word in query.lower().split())


def is_broken(entry: EntryLike) -> bool:
    """A runbook that did not load (or has errors) cannot be opened."""
    return entry.runbook is None or any(p.severity == "error" for p in entry.problems)


class LibraryScreen(BaseScreen):
    """Bundled and configured runbooks with their procedures and recovery windows."""

    CSS_PATH = "library.tcss"
    crumbs = "library"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter", id="library.filter"),
        Binding("enter", "open", "Open", id="library.open"),
        Binding("escape", "clear_filter", "Clear", show=False, id="library.clear"),
        Binding("down", "move(1)", "Down", show=False, id="library.down"),
        Binding("up", "move(-1)", "Up", show=False, id="library.up"),
        Binding("ctrl+r", "reload", "Reload", id="library.reload"),
    ]

    def __init__(self, entries: Sequence[EntryLike]) -> None:
        super().__init__()
        self.entries = list(entries)
        self.shown: list[EntryLike] = []

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Horizontal(id="library-filter-row"):
            yield Static("Filter", id="library-filter-label")
            yield Input(placeholder="type to filter: id, title, tag, procedure", id="library-filter")
        with Horizontal(id="library-body"):
            with Vertical(id="library-list-box"):
                yield OptionList(id="library-list")
            with VerticalScroll(id="library-details-box"):
                yield Static(id="library-details")
        yield from self.compose_footer()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#library-list-box").border_title = "Runbooks"
        self.query_one("#library-details-box").border_title = "Details"
        self.refilter("")
        self.query_one("#library-filter", Input).focus()

    # --- filtering ------------------------------------------------------

    @on(Input.Changed, "#library-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.refilter(event.value)

    def refilter(self, query: str) -> None:
        """Show the entries matching ``query``, keeping the highlight at the top."""
        self.shown = [e for e in self.entries if matches(e, query)]
        options = self.query_one("#library-list", OptionList)
        options.clear_options()
        options.add_options([Option(_entry_prompt(e), id=e.id) for e in self.shown])
        if self.shown:
            options.highlighted = 0
        box = self.query_one("#library-list-box")
        box.border_subtitle = f"{len(self.shown)} of {len(self.entries)}"
        self._show_details()

    def set_entries(self, entries: Sequence[EntryLike]) -> None:
        """Replace the entries (after a reload) and re-apply the filter."""
        self.entries = list(entries)
        self.refilter(self.query_one("#library-filter", Input).value)

    # --- selection ------------------------------------------------------

    @property
    def highlighted(self) -> EntryLike | None:
        """The entry under the cursor."""
        index = self.query_one("#library-list", OptionList).highlighted
        return self.shown[index] if index is not None and index < len(self.shown) else None

    @on(OptionList.OptionHighlighted, "#library-list")
    def _highlighted(self) -> None:
        self._show_details()

    @on(OptionList.OptionSelected, "#library-list")
    def _selected(self) -> None:
        self.action_open()

    @on(Input.Submitted, "#library-filter")
    def _submitted(self) -> None:
        self.action_open()

    def _show_details(self) -> None:
        entry = self.highlighted
        details = self.query_one("#library-details", Static)
        details.update(_entry_details(entry) if entry else Content.from_markup("[dim]No runbook matches."))

    def action_move(self, delta: int) -> None:
        options = self.query_one("#library-list", OptionList)
        if delta > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_focus_filter(self) -> None:
        self.query_one("#library-filter", Input).focus()

    def action_clear_filter(self) -> None:
        field = self.query_one("#library-filter", Input)
        field.value = ""
        field.focus()

    def action_open(self) -> None:
        """Open the highlighted runbook, or say why it cannot be opened."""
        entry = self.highlighted
        if entry is None:
            self.notify("No runbook matches the filter.", severity="warning")
            return
        if is_broken(entry) or entry.runbook is None:
            first = entry.problems[0] if entry.problems else "it did not load"
            self.notify(f"{entry.id} cannot be opened: {first}", severity="error", timeout=8)
            return
        self.rb_app.open_runbook(entry.runbook)

    def action_reload(self) -> None:
        self.set_entries(self.rb_app.load_entries())
        self.notify(f"{len(self.entries)} runbooks")


def _entry_prompt(entry: EntryLike) -> Content:
    if is_broken(entry):
        problem = str(entry.problems[0].message) if entry.problems else "did not load"
        return Content.assemble(("✘ ", "$error"), (entry.id, "bold $error"), "\n  ", (problem, "$text-muted"))
    count = len(entry.runbook.procedures) if entry.runbook else 0
    return Content.assemble(
        (entry.id, "bold"),
        (f"  {count} procedure{'s' if count != 1 else ''}", "$text-muted"),
        "\n  ",
        (entry.title, ""),
    )


def _entry_details(entry: EntryLike) -> Content:
    parts: list[str | tuple[str, str]] = [(entry.title, "bold"), "\n"]
    parts.append((f"{entry.id} · {entry.source} · {entry.path}\n", "$text-muted"))
    if is_broken(entry):
        parts.append(("\nThis runbook has problems and cannot be opened:\n", "bold $error"))
        for problem in list(entry.problems)[:8]:
            parts.append((f"  {problem}\n", "$error"))
        parts.append(("\nFix it, then run: runbook-tui validate FILE\n", "$text-muted"))
        return Content.assemble(*parts)
    runbook = entry.runbook
    assert runbook is not None
    if runbook.severity or runbook.owner:
        parts.append((f"severity {runbook.severity or '—'} · owner {runbook.owner or '—'}\n", "$text-muted"))
    parts.append(("\nProcedures", "bold underline"))
    parts.append(("  recovery window\n", "$text-muted"))
    for n, proc in enumerate(runbook.procedures, 1):
        parts.append(f"{n}. {proc.title}")
        parts.append((f"  {window_text(proc.window)}\n", "$accent"))
    if runbook.decision_matrix.rows:
        parts.append((f"\nDecision matrix: {len(runbook.decision_matrix.rows)} rows", "$text-muted"))
    warnings = [p for p in entry.problems if p.severity != "error"]
    if warnings:
        parts.append((f"\n{len(warnings)} warning(s): {warnings[0]}", "$warning"))
    return Content.assemble(*parts)
