"""What the app tests share: waiting on the app as it runs, and what it said."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.pilot import Pilot

from runbook_tui.core.loader import load_runbook
from runbook_tui.ui.app import AppOptions, RunbookApp
from runbook_tui.ui.screens.procedure import ProcedureScreen


def notices(app: App[Any]) -> list[str]:
    """The notifications the app has shown, as text."""
    return [str(n.message) for n in app._notifications]


async def until(pilot: Pilot[Any], check: Callable[[], object], timeout: float = 15.0) -> None:
    """Let the app run until ``check()`` is true; on timeout, say the screen, its steps and the notices."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            screen = pilot.app.screen
            seen = getattr(screen, "state", None)
            steps = {k: (v.status.value, v.message) for k, v in seen.steps.items()} if seen else {}
            raise AssertionError(f"timed out on {screen}; steps: {steps}; notices: {notices(pilot.app)}")
        await pilot.pause(0.05)


async def run_screen(pilot: Pilot[Any]) -> ProcedureScreen:
    """The run screen, once its session has started."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, ProcedureScreen) and app.screen.state.started_at)
    screen = app.screen
    assert isinstance(screen, ProcedureScreen)
    return screen


def resume_app(journal: Path, work: Path) -> RunbookApp:
    """The app as ``runbook-tui resume SESSION`` starts it."""
    return RunbookApp(
        AppOptions(
            runbook=load_runbook(work / "tiny.yaml"),
            resume_session=journal,
            probe_signals=False,
            find_entries=lambda dirs: [],
        )
    )
