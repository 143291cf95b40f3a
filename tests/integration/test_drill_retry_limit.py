"""A drill's retry_limit caps an http step's retry_for; outside a drill the runbook's retry_for holds.

Real engine sessions and the real CLI against a real HTTP server on 127.0.0.1 whose
/health answers 503 a few times (or forever) before it answers 200.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.engine import ScriptedAsker, runbook_from, write_runbook
from helpers.httpserver import LoopbackServer, Reply

from runbook_tui.core.drills import DrillLimits
from runbook_tui.core.engine import Session
from runbook_tui.core.events import OutputLine, StepFinished, StepStarted
from runbook_tui.core.journal import Journal, load, new_session_id
from runbook_tui.core.model import Runbook

# The CLI test builds a drill sandbox; every drill test asserts none is left (tests/README.md).
pytestmark = [pytest.mark.timeout(120), pytest.mark.xdist_group("drill")]

NOT_YET = 6  # /health answers 503 this many times, then 200
LIMIT = 1.0  # the drill's retry_limit: at 0.4 s between tries, at most 4 tries fit in it
NOTE = "drill: retrying for 1s instead of 30s (the drill's retry_limit)"


def health_runbook(url: str) -> str:
    return f"""
        runbook: 1
        id: payments
        title: Payments
        procedures:
          - id: main
            title: Main
            steps:
              - id: verify-health
                title: Verify health
                kind: http
                url: {url}
                expect_status: 200
                retry_for: 30s
                retry_interval: 0.4s
        """


def recovering(server: LoopbackServer) -> str:
    server.route("/health", *[Reply(503)] * NOT_YET, Reply.json({"ok": True}))
    return server.url("/health")


async def run_health(runbook: Runbook, tmp_path: Path, mode: str, limits: DrillLimits | None) -> list[object]:
    journal = Journal.create(new_session_id(runbook.id))
    session = Session(
        runbook, "main", workdir=tmp_path, ask=ScriptedAsker(), journal=journal, mode=mode, limits=limits
    )
    try:
        await session.start()
        await session.run_step("verify-health")
        await session.finish()
    finally:
        session.close()
    return list(load(journal.path).events)


def health(events: list[object]) -> tuple[StepStarted, StepFinished, list[str]]:
    started = next(e for e in events if isinstance(e, StepStarted) and e.step_id == "verify-health")
    finished = next(e for e in events if isinstance(e, StepFinished) and e.step_id == "verify-health")
    said = [e.text for e in events if isinstance(e, OutputLine) and e.step_id == "verify-health"]
    return started, finished, said


async def test_a_drill_caps_retries_at_its_retry_limit_and_says_so(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        runbook = runbook_from(tmp_path, health_runbook(recovering(server)))
        events = await run_health(runbook, tmp_path, "drill", DrillLimits(retry=LIMIT))
        hits = server.hits("/health")
    started, finished, said = health(events)
    assert said[0] == NOTE
    assert finished.status == "failed"
    assert finished.message.startswith("answered 503, expected 200 after ")
    assert 2 <= finished.data["attempts"] == hits <= 4 < NOT_YET + 1  # the 200 came too late
    assert LIMIT <= finished.data["elapsed"] < 30  # cut at the limit, not at the runbook's 30s
    assert started.command.endswith("expecting 200, retrying for 1s")  # the journal says what ran


@pytest.mark.parametrize(
    ("mode", "limits"),
    [("live", DrillLimits(retry=LIMIT)), ("drill", None), ("drill", DrillLimits(watch=LIMIT))],
    ids=["live-session", "drill-without-limits", "drill-with-watch-limit-only"],
)
async def test_outside_a_drills_retry_limit_the_runbooks_retry_for_holds(
    tmp_path: Path, mode: str, limits: DrillLimits | None
) -> None:
    with LoopbackServer() as server:
        runbook = runbook_from(tmp_path, health_runbook(recovering(server)))
        events = await run_health(runbook, tmp_path, mode, limits)
    started, finished, said = health(events)
    assert finished.status == "passed", finished.message
    assert finished.data["attempts"] == NOT_YET + 1
    assert not any(line.startswith("drill:") for line in said)
    assert started.command.endswith("retrying for 30s")


async def test_a_retry_for_within_the_limit_is_left_alone(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.route("/health", Reply(503), Reply.json({"ok": True}))
        runbook = runbook_from(tmp_path, health_runbook(server.url("/health")).replace("30s", "0.8s"))
        events = await run_health(runbook, tmp_path, "drill", DrillLimits(retry=LIMIT))
    _started, finished, said = health(events)
    assert finished.status == "passed", finished.message
    assert not any(line.startswith("drill:") for line in said)


def test_run_drill_takes_the_retry_limit_from_drill_yaml(tmp_path: Path) -> None:
    """Headless: ``run --drill`` reads retry_limit from the team's drill.yaml beside the runbook."""
    with LoopbackServer() as server:
        server.route("/health", Reply(503))
        path = write_runbook(tmp_path, health_runbook(server.url("/health")), "payments.yaml")
        folder = tmp_path / "drills" / "payments"
        folder.mkdir(parents=True)
        (folder / "drill.yaml").write_text("drill: 1\nrunbook: payments\nretry_limit: 1s\n")
        proc = run_cli("run", str(path), "main", "--drill", "--plain", "--yes", timeout=90)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert NOTE in proc.stdout, proc.stdout
    assert "answered 503, expected 200 after " in proc.stdout
