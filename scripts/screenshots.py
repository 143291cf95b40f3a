"""Export SVG screenshots of the real app, from a real run, into screenshots/.

    python scripts/screenshots.py [OUT_DIR]

Drives the app with Textual's pilot at 80x24 and 120x40: the library (bundled
runbooks plus a demo runbook), triage of the bundled ConnectIn runbook, a demo
procedure mid-run with live output, the confirmation of a Cargo.toml edit with
its diff, the command palette (the run screen's keys), the end-of-session summary
and a communication template filled from the session. Then a session killed
mid-step (SIGKILL of a real headless run) is offered at start-up and resumed: the
offer, the interrupted step's choice, and the run screen as it was left.
Everything shown really ran: shell commands, an HTTP check against a loopback
server, a file edit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SIZES = ((80, 24), (120, 40))

DEMO = """\
runbook: 1
id: payments-api
title: Payments API Rollback
description: Roll the payments API back to the last good release within the window.
owner: payments-team
severity: high
tags: [demo]
parameters:
  - name: tag
    description: The release tag to roll back to
    pattern: '^v[0-9]+\\.[0-9]+\\.[0-9]+$'
    choices: [v2.3.1, v2.3.0]
    example: v2.3.1
decision_matrix:
  rows:
    - id: health-503
      issue: Health check
      threshold: /health returns 503
      action: Roll back the API
      procedure: api-rollback
      severity: High
      deadline: 10 min
    - id: errors
      issue: Error rate
      threshold: "> 5% for 5 min"
      action: Disable the new ledger feature
      procedure: api-rollback
      severity: Medium
procedures:
  - id: api-rollback
    title: API rollback
    recovery_window: < 5 minutes
    prechecks:
      - id: disk
        title: Check free disk space
        kind: shell
        command: df -h . | tail -1
    steps:
      - id: drain
        title: Drain traffic from the canary
        kind: shell
        command: |
          for i in $(seq 1 12); do
            printf '\\033[32m%s INFO\\033[0m drained connection pool %02d (%d in flight)\\n' \\
              "$(date -u +%H:%M:%S)" $i $((40 - i * 3))
            sleep 0.05
          done
          printf '\\033[33m%s WARN\\033[0m 2 slow requests still open\\n' "$(date -u +%H:%M:%S)"
      - id: features
        title: Drop the ledger_v2 default feature
        kind: cargo_features
        file: Cargo.toml
        remove: [ledger_v2]
      - id: release
        title: Announce the rollback to {{tag}}
        kind: shell
        command: printf 'rolling back payments-api to %s\\n' {{tag}}
    verification:
      - id: health
        title: Verify /health answers 200
        kind: http
        url: {health}
        expect_status: 200
templates:
  - id: internal
    title: Internal Rollback Notification
    audience: internal
    body: |
      ROLLBACK ALERT: Payments API

      Rollback Type: [Feature Flag/Code/Database]
      Initiated By: [Name]
      Reason: [Brief description of issue]
      Current Status: [In progress/Completed]
      Expected Resolution: [Time]
  - id: status-page
    title: Status Page Update
    audience: external
    body: |
      [PRODUCT NAME] payments were degraded from [start time] to [end time].
      We rolled back a recent release; payments work normally again.
"""

RESUME = """\
runbook: 1
id: payments-restart
title: Payments API Restart
procedures:
  - id: restart
    title: Restart on the previous image
    recovery_window: < 5 minutes
    steps:
      - id: stop
        title: Stop the new containers
        kind: shell
        command: echo stopped payments-api-7f9c
      - id: pull
        title: Pull the previous image
        kind: shell
        command: |
          for i in 1 2 3 4 5 6 7 8 9; do echo "pulling layer $i/9 of payments-api:v2.3.1"; sleep 0.2; done
      - id: start
        title: Start the previous version
        kind: shell
        command: echo started payments-api:v2.3.1
"""

CARGO = """\
[package]
name = "payments-api"
version = "2.4.0"

[features]
default = ["ledger_v2", "metrics"]
ledger_v2 = []
metrics = []
"""


class _Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b'{"status": "ok", "database": "connected"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def _fixed_clock() -> Callable[[], float]:
    # The clock runs for real, so times on screen are the run's own.
    return time.time


async def _until(pilot: object, check: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: timed out waiting for {check.__name__}")
        await pilot.pause(0.05)  # type: ignore[attr-defined]


async def shoot(out: Path, size: tuple[int, int], demo_dir: Path) -> None:
    """One pass through the app at ``size``, saving a screenshot at each stop."""
    from textual.command import CommandPalette

    from runbook_tui.ui.app import AppOptions, RunbookApp
    from runbook_tui.ui.screens.confirm import ConfirmModal
    from runbook_tui.ui.screens.library import LibraryScreen
    from runbook_tui.ui.screens.parameter import ParameterModal
    from runbook_tui.ui.screens.plan import PlanScreen
    from runbook_tui.ui.screens.procedure import ProcedureScreen
    from runbook_tui.ui.screens.quit import QuitModal
    from runbook_tui.ui.screens.runbook import RunbookScreen
    from runbook_tui.ui.screens.summary import SummaryScreen
    from runbook_tui.ui.screens.templates import TemplatesScreen
    from runbook_tui.ui.widgets.step_list import StepList

    suffix = f"{size[0]}x{size[1]}"
    options = AppOptions(runbook_dirs=(demo_dir,), workdir=demo_dir, probe_signals=False)
    app = RunbookApp(options)

    def save(name: str) -> None:
        app.save_screenshot(f"{name}-{suffix}.svg", str(out))
        print(f"wrote {out / f'{name}-{suffix}.svg'}")

    async with app.run_test(size=size) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, LibraryScreen) and app.screen.entries)
        await pilot.pause(0.2)
        save("library")
        await pilot.press(*"connectin", "enter")
        await _until(pilot, lambda: isinstance(app.screen, RunbookScreen))
        await pilot.press("down", "enter")
        await pilot.pause(0.3)
        save("triage")
        await pilot.press("escape")
        await pilot.pause(0.1)
        await _until(pilot, lambda: isinstance(app.screen, LibraryScreen))
        library = app.screen
        await pilot.press("escape", *"payments", "enter")
        await _until(pilot, lambda: isinstance(app.screen, RunbookScreen) and app.screen is not library)
        await pilot.press("enter", "o")
        await _until(pilot, lambda: isinstance(app.screen, ProcedureScreen) and app.screen.state.started_at)
        run = app.screen
        assert isinstance(run, ProcedureScreen)
        await pilot.press("p")  # the plan: what would run, every diff, changing nothing
        await _until(pilot, lambda: isinstance(app.screen, PlanScreen))
        await pilot.pause(0.3)
        save("plan")
        await pilot.press("escape")
        await _until(pilot, lambda: app.screen is run)
        await pilot.press("r")  # the pre-check
        await _until(pilot, lambda: run.state.step("disk").status.value == "passed")
        run.query_one("#steps", StepList).select_step("drain")
        await pilot.press("r")
        await _until(pilot, lambda: len(run.output.get("drain", ())) >= 6)
        await pilot.pause(0.1)
        save("procedure-running")
        await _until(pilot, lambda: run.state.step("drain").status.value == "passed")
        run.query_one("#steps", StepList).select_step("features")
        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, ConfirmModal))
        await pilot.pause(0.2)
        save("confirm-diff")
        await pilot.press("end")  # yes counts only once the whole diff has been on screen
        await pilot.pause(0.1)
        await pilot.press("y")
        await _until(pilot, lambda: run.state.step("features").status.value == "passed")
        await pilot.press("a")
        await _until(pilot, lambda: isinstance(app.screen, ParameterModal))
        await pilot.press(*"v2.3.1", "enter")
        await _until(pilot, lambda: run.state.step("health").status.value == "passed")
        await _until(pilot, lambda: not run.has_running_work)
        await pilot.pause(0.2)
        save("procedure-done")
        await pilot.press("ctrl+p")  # the palette lists the screen's keys, built from its bindings
        await _until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.pause(0.3)
        save("palette")
        await pilot.press("escape")
        await _until(pilot, lambda: app.screen is run)
        await pilot.press("e")
        await _until(pilot, lambda: isinstance(app.screen, QuitModal))
        await pilot.press("f")
        await _until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        await pilot.pause(0.2)
        save("summary")
        await pilot.press("t")
        await _until(pilot, lambda: isinstance(app.screen, TemplatesScreen))
        await pilot.pause(0.2)
        save("templates")


def kill_mid_step(folder: Path) -> None:
    """Run the restart runbook headless and SIGKILL it while it pulls: an unfinished session."""
    path = folder / "payments-restart.yaml"
    path.write_text(RESUME)
    command = [sys.executable, "-m", "runbook_tui", "run", str(path), "restart", "--plain", "--yes"]
    proc = subprocess.Popen(
        [*command, "--workdir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    sessions = Path(os.environ["RUNBOOK_TUI_DATA_DIR"]) / "sessions"
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            journals = list(sessions.glob("*.jsonl")) if sessions.is_dir() else []
            if journals and b"pulling layer 5/9" in journals[0].read_bytes():
                return
            time.sleep(0.02)
        raise SystemExit("screenshots: the restart run never reached its pull step")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


async def shoot_resume(out: Path, size: tuple[int, int], demo_dir: Path) -> None:
    """Start-up offers the killed session; resuming shows the interrupted step's choice."""
    from runbook_tui.ui.app import AppOptions, RunbookApp
    from runbook_tui.ui.screens.procedure import ProcedureScreen
    from runbook_tui.ui.screens.resume import InterruptedModal, ResumeOfferModal

    suffix = f"{size[0]}x{size[1]}"
    app = RunbookApp(AppOptions(runbook_dirs=(demo_dir,), probe_signals=False))

    def save(name: str) -> None:
        app.save_screenshot(f"{name}-{suffix}.svg", str(out))
        print(f"wrote {out / f'{name}-{suffix}.svg'}")

    async with app.run_test(size=size) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, ResumeOfferModal))
        await pilot.pause(0.3)
        save("resume-offer")
        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, InterruptedModal))
        await pilot.pause(0.2)
        save("resume-interrupted")
        await pilot.press("escape")
        await _until(pilot, lambda: isinstance(app.screen, ProcedureScreen))
        await pilot.pause(0.3)
        save("procedure-resumed")


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    health = f"http://127.0.0.1:{server.server_address[1]}/health"
    with tempfile.TemporaryDirectory(prefix="rbt-shots-") as tmp:
        root = Path(tmp)
        os.environ["RUNBOOK_TUI_DATA_DIR"] = str(root / "data")
        os.environ["RUNBOOK_TUI_CONFIG_DIR"] = str(root / "config")
        for size in SIZES:
            demo = root / f"demo-{size[0]}"
            demo.mkdir()
            (demo / "payments-api.yaml").write_text(DEMO.replace("{health}", health))
            (demo / "Cargo.toml").write_text(CARGO)
            asyncio.run(shoot(out, size, demo))
        for size in SIZES:
            # Each pass its own sessions folder, so each offers its own killed session.
            os.environ["RUNBOOK_TUI_DATA_DIR"] = str(root / f"data-resume-{size[0]}")
            elsewhere = root / f"restart-{size[0]}"  # not in the library: found by its recorded path
            elsewhere.mkdir()
            kill_mid_step(elsewhere)
            asyncio.run(shoot_resume(out, size, root / f"demo-{size[0]}"))
    server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
