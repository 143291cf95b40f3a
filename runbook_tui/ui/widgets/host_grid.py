"""The per-host grid of a fleet step: host, batch, state, duration; failed hosts first.

A keyboard-only ``DataTable`` (one row per host, read from ``StepState.hosts``). Moving
the cursor over a host while the grid has focus posts :class:`HostGrid.Chosen`, and the
procedure screen then shows only that host's ``[host] `` lines in the log pane;
escape goes back to every host's lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from ...core.durations import format_seconds
from ...core.journal.fold import HostResult

# Which hosts come first: the ones the engineer must look at (failed, unreachable),
# then the ones still running, then the rest.
_ORDER = {"failed": 0, "unreachable": 1, "running": 2, "skipped": 3, "ok": 4}
_STYLE = {
    "failed": "bold red",
    "unreachable": "bold red",
    "running": "bold yellow",
    "skipped": "dim",
    "ok": "green",
}
COLUMNS = ("host", "batch", "state", "duration")


def host_order(hosts: Mapping[str, HostResult]) -> list[HostResult]:
    """The hosts as the grid lists them: failed and unreachable first, then by batch and name."""
    return sorted(hosts.values(), key=lambda h: (_ORDER.get(h.status, 2), h.batch, h.host))


def duration_text(result: HostResult) -> str:
    """A host's duration as shown: ``…`` while it runs, ``-`` when none was recorded."""
    if result.status == "running":
        return "…"
    return format_seconds(result.duration) if result.duration is not None else "-"


class HostGrid(DataTable[Text | str]):
    """One row per host of the selected fleet step; the cursor picks the host whose lines show."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "all_hosts", "All hosts", tooltip="Show every host's lines", id="hosts.all"),
    ]

    class Chosen(Message):
        """The engineer picked a host (None: every host's lines again)."""

        def __init__(self, host: str | None) -> None:
            super().__init__()
            self.host = host

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, show_cursor=True)
        self.mask_durations = False  # snapshots: durations vary run to run
        self._rows: list[str] = []
        self._rendered: list[tuple[str, str, str, str]] = []

    def on_mount(self) -> None:
        for name in COLUMNS:
            self.add_column(name, key=name)

    @property
    def hosts(self) -> list[str]:
        """The host of each row, top to bottom."""
        return list(self._rows)

    def show_hosts(self, hosts: Mapping[str, HostResult]) -> None:
        """Render ``hosts`` (failed first); the cursor stays on its host while the grid has focus."""
        rows = [
            (h.host, str(h.batch), h.status, "--" if self.mask_durations else duration_text(h))
            for h in host_order(hosts)
        ]
        if rows == self._rendered:
            return  # nothing changed: no relayout, the cursor stays
        # Not in use: the cursor goes back to the top, the first failed host.
        current = self.current_host if self.has_focus else None
        self.clear()
        self._rendered = rows
        self._rows = [row[0] for row in rows]
        for host, batch, status, duration in rows:
            self.add_row(host, batch, Text(status, style=_STYLE.get(status, "")), duration, key=host)
        if current in self._rows:
            self.move_cursor(row=self._rows.index(current), animate=False)

    @property
    def current_host(self) -> str | None:
        """The host under the cursor, if any."""
        if not self._rows or not 0 <= self.cursor_row < len(self._rows):
            return None
        return self._rows[self.cursor_row]

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        # Only the engineer's moves choose a host, and the cursor's host when this is
        # handled: a refresh of the rows passes over other rows on its way back.
        event.stop()
        host = self.current_host
        if self.has_focus and host is not None:
            self.post_message(self.Chosen(host))

    def on_focus(self) -> None:
        host = self.current_host
        if host is not None:
            self.post_message(self.Chosen(host))

    def action_all_hosts(self) -> None:
        """Every host's lines again; the focus goes back to the checklist."""
        self.post_message(self.Chosen(None))
