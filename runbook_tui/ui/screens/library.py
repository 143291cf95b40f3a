"""The library: every runbook found, filtered as you type; Enter opens one."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ...core.errors import Problem, RunbookTuiError
from ...core.library_cache import RunbookSummary
from ..format import window_text
from .base import BaseScreen

if TYPE_CHECKING:
    from ...core.model import Runbook


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


def summary_of(entry: EntryLike) -> RunbookSummary | None:
    """What the list shows of ``entry``, without loading the whole runbook when the entry has a summary."""
    summary = getattr(entry, "summary", None)  # core.library.RunbookEntry loads `runbook` on first use
    if isinstance(summary, RunbookSummary):
        return summary
    runbook = entry.runbook
    return RunbookSummary.of(runbook) if runbook is not None else None


def matches(entry: EntryLike, query: str, summary: RunbookSummary | None) -> bool:
    """Every word of ``query`` appears in the id, title, tags or a procedure title."""
    words = query.lower().split()
    if not words:
        return True
    hay = [entry.id, entry.title, entry.source]
    if summary is not None:
        hay += list(summary.tags) + [p.title for p in summary.procedures]
        hay += [p.id for p in summary.procedures]
    text = " ".join(hay).lower()
    return all(word in text for word in words)


def is_broken(entry: EntryLike, summary: RunbookSummary | None) -> bool:
    """A runbook that did not load (or has errors) cannot be opened."""
    return summary is None or any(p.severity == "error" for p in entry.problems)


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
        self._summaries = [summary_of(e) for e in self.entries]  # parallel to self.entries
        self._summary_by_entry: dict[int, RunbookSummary | None] = {}  # of the shown ones, by id()
        self._query = ""

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
        self._query = query
        self.shown = []
        self._summary_by_entry = {}
        self.query_one("#library-list", OptionList).clear_options()
        self._show_more(0)

    def set_entries(self, entries: Sequence[EntryLike]) -> None:
        """Replace the entries (a reload, or more of the library arriving) and re-apply the filter."""
        old = self.entries
        new = list(entries)
        grows = len(new) >= len(old) and all(a is b for a, b in zip(old, new, strict=False))
        self.entries = new
        self._summaries = self._summaries[: len(old)] if grows else []
        self._summaries += [summary_of(e) for e in new[len(self._summaries) :]]
        if grows and self._query == self.query_one("#library-filter", Input).value:
            self._show_more(len(old))  # the library arriving in batches: keep the cursor where it is
        else:
            self.refilter(self.query_one("#library-filter", Input).value)

    def _show_more(self, start: int) -> None:
        """Add the entries from ``start`` on that match the filter to the list."""
        options = self.query_one("#library-list", OptionList)
        had = len(self.shown)
        added: list[Option] = []
        for entry, summary in zip(self.entries[start:], self._summaries[start:], strict=True):
            if matches(entry, self._query, summary):
                self.shown.append(entry)
                self._summary_by_entry[id(entry)] = summary
                added.append(Option(_entry_prompt(entry, summary)))  # ids repeat when one shadows another
        if added:
            options.add_options(added)
        if self.shown and not had:
            options.highlighted = 0
        box = self.query_one("#library-list-box")
        box.border_subtitle = f"{len(self.shown)} of {len(self.entries)}"
        if not had:
            self._show_details()

    def _summary(self, entry: EntryLike) -> RunbookSummary | None:
        return self._summary_by_entry.get(id(entry))

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
        if entry is None:
            details.update(Content.from_markup("[dim]No runbook matches."))
        else:
            details.update(_entry_details(entry, self._summary(entry)))

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
        self.rb_app.open_entry(entry)

    def action_reload(self) -> None:
        try:
            entries = self.rb_app.load_entries()
        except RunbookTuiError as exc:  # a config file broken since start-up: say so, keep the list
            self.notify(f"{exc}", title="Cannot read the library", severity="error", timeout=30)
            return
        self.set_entries(entries)
        self.notify(f"{len(self.entries)} runbooks")


def _entry_prompt(entry: EntryLike, summary: RunbookSummary | None) -> Content:
    """Two lines, cut to the list's width (library.tcss): the id, then the title or what is wrong."""
    if is_broken(entry, summary):
        problem = str(entry.problems[0].message) if entry.problems else "did not load"
        return Content.assemble(("✘ ", "$error"), (entry.id, "bold $error"), "\n  ", (problem, "$text-muted"))
    return Content.assemble((entry.id, "bold"), "\n  ", entry.title)


def _entry_details(entry: EntryLike, summary: RunbookSummary | None) -> Content:
    parts: list[str | tuple[str, str]] = [(entry.title, "bold"), "\n"]
    parts.append((f"{entry.id} · {entry.source} · {entry.path}\n", "$text-muted"))
    if summary is None or is_broken(entry, summary):
        parts.append(("\nThis runbook has problems and cannot be opened:\n", "bold $error"))
        for problem in list(entry.problems)[:8]:
            parts.append((f"  {problem}\n", "$error"))
        parts.append(("\nFix it, then run: runbook-tui validate FILE\n", "$text-muted"))
        return Content.assemble(*parts)
    runbook = summary
    if runbook.severity or runbook.owner:
        parts.append((f"severity {runbook.severity or '—'} · owner {runbook.owner or '—'}\n", "$text-muted"))
    parts.append(("\nProcedures", "bold underline"))
    parts.append(("  recovery window\n", "$text-muted"))
    for n, proc in enumerate(runbook.procedures, 1):
        parts.append(f"{n}. {proc.title}")
        parts.append((f"  {window_text(proc.window)}\n", "$accent"))
    if runbook.decision_rows:
        parts.append((f"\nDecision matrix: {runbook.decision_rows} rows", "$text-muted"))
    warnings = [p for p in entry.problems if p.severity != "error"]
    if warnings:
        parts.append((f"\n{len(warnings)} warning(s): {warnings[0]}", "$warning"))
    return Content.assemble(*parts)
