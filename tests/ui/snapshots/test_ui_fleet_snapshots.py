"""Snapshots of a fleet step's per-host grid at 80x24 and 120x40, with fixed durations.

Twelve hosts (more than the grid's rows, so it scrolls), three batches, two failed
and one unreachable: those come first. Fixed results, so the snapshot is stable.
Update after a deliberate change with ``pytest tests/snapshots --snapshot-update``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from helpers.paths import REPO_ROOT
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import Footer, Static

from runbook_tui.core.journal.fold import HostResult
from runbook_tui.ui.widgets.host_grid import HostGrid

SIZES = [(80, 24), (120, 40)]
GRID_CSS = REPO_ROOT / "runbook_tui" / "ui" / "widgets" / "host_grid.tcss"


def fixed_hosts() -> dict[str, HostResult]:
    """Twelve hosts in batches of four; web03 and web07 failed, web10 unreachable, web12 still running."""
    hosts: dict[str, HostResult] = {}
    for n in range(1, 13):
        name = f"web{n:02d}"
        status = {3: "failed", 7: "failed", 10: "unreachable", 12: "running"}.get(n, "ok")
        duration = None if status == "running" else 1.5 + n * 0.75
        hosts[name] = HostResult(name, (n - 1) // 4 + 1, status, 1000.0 + n, duration, rc=0)
    return hosts


class GridApp(App[None]):
    """The grid as the procedure screen mounts it: a bordered step pane, the grid above the log."""

    CSS_PATH: ClassVar[list[str | Path]] = [GRID_CSS]
    CSS = "#box { border: round $primary; } #hosts { display: block; } #log { height: 1fr; }"

    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield Static("FAILED  Restart api on web  shell")
            yield HostGrid(id="hosts")
            yield Static("[web03] api would not stop", id="log", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        grid = self.query_one(HostGrid)
        grid.add_class("-fleet")
        grid.show_hosts(fixed_hosts())
        grid.focus()


@pytest.mark.parametrize("size", SIZES)
def test_host_grid(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(GridApp(), terminal_size=size)
