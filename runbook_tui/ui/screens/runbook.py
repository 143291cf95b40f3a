"""Triage: the decision matrix as a table; pick the row that matches, get its procedure."""

from __future__ import annotations

import time
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.events import Resize
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from ...core.model import DecisionRow, Procedure, Runbook
from ..format import window_text
from ..signals import SignalResult, probe_signal, signal_matches
from .base import BaseScreen

_FIXED = {"severity": 8, "deadline": 9, "signal": 11}
_WEIGHTS = {"issue": 3, "threshold": 3, "action": 4}


def column_widths(columns: list[str], total: int) -> dict[str, int]:
    """Fit the columns in ``total`` cells: fixed ones first, the rest shared by weight."""
    widths = {c: _FIXED[c] for c in columns if c in _FIXED}
    flexible = [c for c in columns if c in _WEIGHTS]
    room = max(len(flexible) * 8, total - sum(widths.values()) - 2 * len(columns) - 1)
    weight = sum(_WEIGHTS[c] for c in flexible) or 1
    for c in flexible:
        widths[c] = max(8, room * _WEIGHTS[c] // weight)
    return widths


def _cell(text: str, width: int, style: Style | None = None) -> Text:
    # Plain Text, never markup: runbooks are full of "[NAME]" placeholders.
    text = " ".join(text.split())
    if len(text) > width:
        text = text[: width - 1] + "…"
    return Text(text, style=style or Style())


class RunbookScreen(BaseScreen):
    """The decision matrix, the proposed procedure, and every procedure one key away."""

    CSS_PATH = "runbook.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Pick row / open", id="runbook.choose"),
        Binding("o", "open_proposed", "Open proposed", id="runbook.open"),
        Binding("i", "reference", "Reference", tooltip="Reference sections", id="runbook.reference"),
        Binding("e", "reference('escalation')", "Escalation", show=False, id="runbook.escalation"),
        Binding("t", "reference('templates')", "Templates", show=False, id="runbook.templates"),
        Binding(
            "p",
            "probe",
            "Probe signals",
            show=False,
            tooltip="Probe live signals (every row's signal URL, again)",
            id="runbook.probe",
        ),
        Binding("tab", "app.focus_next", "Switch", show=False, id="runbook.switch"),
        Binding("escape", "back", "Library", id="runbook.back"),
        Binding("s", "impact", "Impact start?", id="runbook.impact"),
        *[
            Binding(str(n), f"open_number({n})", f"Procedure {n}", show=False, id=f"runbook.procedure{n}")
            for n in range(1, 10)
        ],
    ]

    def __init__(self, runbook: Runbook) -> None:
        super().__init__()
        self.runbook = runbook
        self.crumbs = runbook.id
        self.decision: DecisionRow | None = None
        self.signals: dict[str, SignalResult] = {}
        self.matched: list[str] = []  # row ids whose live signal matches
        self._widths: dict[str, int] = {}
        self.probing = False
        self.alert_at: float | None = None  # when a live signal first matched: a quick answer for impact

    @property
    def rows(self) -> tuple[DecisionRow, ...]:
        return self.runbook.decision_matrix.rows

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        with Vertical(id="runbook-body"):
            yield Static(self._title(), id="runbook-title")
            with Vertical(id="matrix-box"):
                yield DataTable(id="matrix", cursor_type="row", zebra_stripes=True)
            yield Static(id="proposal")
            with Vertical(id="procedures-box"):
                yield OptionList(id="procedures")
        yield from self.compose_footer()

    def _title(self) -> Content:
        desc = " ".join(self.runbook.description.split())
        if len(desc) > 76:
            desc = desc[:75] + "…"
        return Content.assemble((self.runbook.title, "bold"), "\n", (desc, "$text-muted"))

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#matrix-box").border_title = "Decision matrix: which row matches?"
        self.query_one("#procedures-box").border_title = "Procedures  (1-9 to open)"
        procs = self.query_one("#procedures", OptionList)
        procs.add_options(
            [Option(_procedure_prompt(n, p), id=p.id) for n, p in enumerate(self.runbook.procedures, 1)]
        )
        if self.rows:
            self._fill_table()
            self.query_one("#matrix", DataTable).focus()
        else:
            self.query_one("#matrix-box").display = False
            procs.focus()
        self._show_proposal()
        if self.rb_app.options.probe_signals and any(r.signal for r in self.rows):
            self.action_probe()

    # --- the table ------------------------------------------------------

    def _columns(self) -> list[str]:
        cols = ["issue"]
        for name in ("threshold", "severity", "action", "deadline"):
            if any(getattr(r, name) for r in self.rows):
                cols.append(name)
        if any(r.signal for r in self.rows):
            cols.append("signal")
        return cols

    def on_resize(self, event: Resize) -> None:
        super().on_resize(event)
        if self.rows:
            self._fill_table()

    def _fill_table(self) -> None:
        table = self.query_one("#matrix", DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        cols = self._columns()
        self._widths = column_widths(cols, self.size.width - 4)
        for col in cols:
            table.add_column(col.capitalize(), key=col, width=self._widths[col])
        for row in self.rows:
            table.add_row(*[self._value(row, col) for col in cols], key=row.id)
        if 0 <= cursor < len(self.rows):
            table.move_cursor(row=cursor)

    def _value(self, row: DecisionRow, col: str) -> Text:
        width = self._widths.get(col, 12)
        hot = row.id in self.matched
        style = Style(color=self.app.current_theme.error, bold=True) if hot else None
        if col == "issue":
            return _cell(("● " if hot else "") + row.issue, width, style)
        if col == "deadline":
            return _cell(row.deadline.text if row.deadline else "", width)
        if col == "signal":
            if row.signal is None:
                return _cell("", width)
            result = self.signals.get(row.id)
            if result is None:
                text = "probing…" if self.probing else "p probes"
            else:
                text = result.text + (" ● now" if hot else "")
            return _cell(text, width, style)
        return _cell(str(getattr(row, col)), width)

    def _refresh_row(self, row: DecisionRow) -> None:
        table = self.query_one("#matrix", DataTable)
        for col in self._columns():
            table.update_cell(row.id, col, self._value(row, col))

    @property
    def highlighted_row(self) -> DecisionRow | None:
        """The decision row under the cursor."""
        if not self.rows:
            return None
        index = self.query_one("#matrix", DataTable).cursor_row
        return self.rows[index] if 0 <= index < len(self.rows) else None

    @on(DataTable.RowHighlighted, "#matrix")
    def _row_highlighted(self) -> None:
        self._show_proposal()

    @on(DataTable.RowSelected, "#matrix")
    def _row_selected(self) -> None:
        self.pick(self.highlighted_row)

    @on(OptionList.OptionSelected, "#procedures")
    def _procedure_selected(self, event: OptionList.OptionSelected) -> None:
        proc = self.runbook.procedure(event.option.id or "")
        if proc is not None:
            self.open(proc)

    # --- choosing -------------------------------------------------------

    def pick(self, row: DecisionRow | None) -> None:
        """The engineer says this row matches; its procedure becomes the proposal."""
        if row is None:
            return
        self.decision = row
        self._show_proposal()
        proc = self._procedure_for(row)
        procs = self.query_one("#procedures", OptionList)
        if proc is not None:
            procs.highlighted = self.runbook.procedures.index(proc)
            self.notify(f"Proposed: {proc.title}. Press o to open it.", title="Triage")
        else:
            self.notify("This row's action is not a procedure here; see the action text.", severity="warning")

    def _procedure_for(self, row: DecisionRow | None) -> Procedure | None:
        if row is None or row.procedure is None:
            return None
        return self.runbook.procedure(row.procedure)

    def _show_proposal(self) -> None:
        row = self.decision or self.highlighted_row
        parts: list[str | tuple[str, str]] = []
        if row is None:
            parts.append(("Pick a procedure below (1-9, enter).", "$text-muted"))
        else:
            label = "Picked" if row is self.decision else "Row"
            parts += [(f"{label}: ", "bold"), row.issue]
            if row.threshold:
                parts.append((f" ({row.threshold})", "$text-muted"))
            parts += ["\n", ("Action: ", "bold"), row.action]
            proc = self._procedure_for(row)
            if proc is not None:
                parts += ["\n", ("→ ", "bold $accent"), (proc.title, "bold $accent")]
                parts.append((f"  window {window_text(proc.window)}", "$text-muted"))
                if row.deadline:
                    parts.append((f"  decide within {row.deadline.text}", "$warning"))
                key = "o" if row is self.decision else "enter"
                parts.append((f"  [{key}]", "$text-muted"))
        self.query_one("#proposal", Static).update(Content.assemble(*parts))

    def action_choose(self) -> None:
        """Enter: pick the highlighted row, or open the proposal if it is already picked."""
        focused = self.focused
        if isinstance(focused, OptionList):
            focused.action_select()
            return
        row = self.highlighted_row
        if row is not None and row is self.decision:
            self.action_open_proposed()
        else:
            self.pick(row)

    def action_open_proposed(self) -> None:
        proc = self._procedure_for(self.decision)
        if proc is None:
            self.notify("Pick a matrix row first (enter), or a procedure by number.", severity="warning")
            return
        self.open(proc)

    def action_open_number(self, number: int) -> None:
        proc = self.runbook.procedure(str(number))
        if proc is None:
            self.notify(f"There is no procedure {number}.", severity="warning")
        else:
            self.open(proc)

    def open(self, procedure: Procedure) -> None:
        """Go to the run screen for ``procedure`` (carrying the picked row, if it led there)."""
        decision = self.decision if self._procedure_for(self.decision) is procedure else None
        self.rb_app.open_procedure(self.runbook, procedure, decision)

    def action_reference(self, section: str | None = None) -> None:
        from .reference import ReferenceScreen

        self.app.push_screen(ReferenceScreen(self.runbook, section))

    def action_back(self) -> None:
        self.dismiss()

    # --- live signals ---------------------------------------------------

    def action_probe(self) -> None:
        """Probe every row's live signal again (off the event loop)."""
        if not any(r.signal for r in self.rows):
            self.notify("No row of this matrix has a live signal.")
            return
        self.signals.clear()
        self.probing = True
        for row in self.rows:
            if row.signal is not None:
                self._refresh_row(row)
        self._probe_all()

    @work(exclusive=True, group="signals", exit_on_error=False)
    async def _probe_all(self) -> None:
        for row in self.rows:
            if row.signal is None:
                continue
            result = await probe_signal(row.signal)
            self.signals[row.id] = result
            hit = signal_matches(row.signal, result)
            if hit and row.id not in self.matched:
                self.matched.append(row.id)
                self._signal_matched(row, result)
            elif not hit and row.id in self.matched:
                self.matched.remove(row.id)
            self._refresh_row(row)
        self.probing = False

    def action_impact(self) -> None:
        """Ask when impact started (now, the alert time, or a typed time); the session records it."""
        from .evidence import impact_prompt

        def done(value: tuple[float, str] | None) -> None:
            if value is not None:
                self.rb_app.answer_impact(value[0])
                when = time.strftime("%H:%M:%S", time.localtime(value[0]))
                self.notify(
                    f"Impact start: {when} ({value[1]}); recorded when the session starts.", title="Triage"
                )

        self.app.push_screen(impact_prompt(self.alert_at, self.rb_app.clock), done)

    def _signal_matched(self, row: DecisionRow, result: SignalResult) -> None:
        if self.alert_at is None:
            self.alert_at = self.rb_app.clock()
        url = row.signal.url if row.signal else ""
        self.notify(
            f"{url} returned {result.text}: this matches '{row.issue}'.",
            title="Live signal",
            severity="warning",
            timeout=10,
        )
        if self.decision is None:
            self.query_one("#matrix", DataTable).move_cursor(row=self.rows.index(row))

    def palette_commands(self) -> list[SystemCommand]:
        """The procedures by name (their keys, 1 to 9, are in the palette as bindings only by number)."""
        cmds = []
        for n, proc in enumerate(self.runbook.procedures, 1):
            cmds.append(
                SystemCommand(
                    f"Run procedure {n}: {proc.title}",
                    f"recovery window {window_text(proc.window)}",
                    lambda p=proc: self.open(p),
                )
            )
        return cmds


def _procedure_prompt(number: int, proc: Procedure) -> Content:
    steps = len(proc.all_steps())
    return Content.assemble(
        (f"{number} ", "bold $accent"),
        (proc.title, "bold"),
        (f"  {window_text(proc.window)}", "$warning"),
        (f"  {steps} steps", "$text-muted"),
        *((("\n  " + " ".join(proc.when.split())[:120], "$text-muted"),) if proc.when else ()),
    )
