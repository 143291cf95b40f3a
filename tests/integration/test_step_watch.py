"""Watch steps against real processes: run for the duration, then stop the process group."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from runbook_tui.core.events import StepStatus
from runbook_tui.core.model import Step, StepKind, WatchSpec
from runbook_tui.core.steps.base import StepOutcome
from runbook_tui.core.steps.shell import group_alive
from runbook_tui.core.steps.watch import WatchRunner

TICKER = "echo $$; while :; do echo tick; sleep 0.1; done"


@dataclass
class Ctx:
    """The StepContext interface, collecting output lines."""

    workdir: Path
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    drill: bool = False
    backup_dir: Path = Path("/nonexistent")
    lines: list[tuple[str, str]] = field(default_factory=list)

    def output(self, text: str, stream: str = "stdout") -> None:
        self.lines.append((stream, text))

    def output_lines(self, lines: list[str], stream: str = "stdout") -> None:
        for line in lines:
            self.output(line, stream)

    def texts(self, stream: str = "stdout") -> list[str]:
        return [text for s, text in self.lines if s == stream]


def watch_step(command: str, duration: float, cwd: str | None = None) -> Step:
    return Step("w1", "watch the logs", StepKind.WATCH, WatchSpec(command, duration, cwd=cwd))


async def watch(command: str, duration: float, tmp_path: Path) -> tuple[Ctx, StepOutcome, float]:
    ctx = Ctx(tmp_path)
    start = time.monotonic()
    outcome = await WatchRunner().run(watch_step(command, duration), ctx)
    return ctx, outcome, time.monotonic() - start


async def test_runs_for_its_duration_then_stops_its_process(tmp_path: Path) -> None:
    ctx, outcome, elapsed = await watch(TICKER, 1.0, tmp_path)
    assert outcome.status is StepStatus.PASSED
    assert outcome.message == "watched for 1s"
    assert 1.0 <= elapsed < 3.0
    assert ctx.texts().count("tick") >= 5, "output was not streamed during the watch"
    assert ctx.texts("info") == ["watch of 1s ended: sent SIGINT to the process group"]
    assert not group_alive(int(ctx.texts()[0]))


async def test_a_command_ignoring_sigint_is_still_stopped(tmp_path: Path) -> None:
    ctx, outcome, elapsed = await watch("trap '' INT; " + TICKER, 0.5, tmp_path)
    assert outcome.status is StepStatus.PASSED
    assert elapsed < 5
    assert ctx.texts("info")[-1] == "watch of 0.5s ended: sent SIGTERM to the process group"
    assert not group_alive(int(ctx.texts()[0]))


async def test_early_non_zero_exit_fails(tmp_path: Path) -> None:
    ctx, outcome, elapsed = await watch("echo 'no such service' >&2; exit 2", 30, tmp_path)
    assert outcome.status is StepStatus.FAILED
    assert outcome.exit_code == 2
    assert outcome.message.startswith("exited with status 2 after ")
    assert outcome.message.endswith("before the 30s watch was over")
    assert elapsed < 3
    assert ctx.texts("stderr") == ["no such service"]


async def test_ending_by_itself_with_status_zero_passes(tmp_path: Path) -> None:
    ctx, outcome, elapsed = await watch("echo all quiet", 30, tmp_path)
    assert outcome.status is StepStatus.PASSED
    assert outcome.message.startswith("ended by itself with status 0")
    assert elapsed < 3
    assert ctx.texts() == ["all quiet"]


async def test_cancelling_a_background_watch_stops_it(tmp_path: Path) -> None:
    ctx = Ctx(tmp_path)
    task = asyncio.create_task(WatchRunner().run(watch_step(TICKER, 60), ctx))
    while not ctx.lines:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ctx.texts("info") == ["cancelled: sent SIGINT to the process group"], ctx.lines
    assert not group_alive(int(ctx.texts()[0]))


async def test_missing_directory_fails_clearly(tmp_path: Path) -> None:
    outcome = await WatchRunner().run(watch_step("true", 5, cwd="gone"), Ctx(tmp_path))
    assert outcome.status is StepStatus.FAILED
    assert "gone" in outcome.message and "does not exist" in outcome.message


def test_describe() -> None:
    assert WatchRunner().describe(watch_step("docker compose logs -f api", 300)) == (
        "watch for 5m: docker compose logs -f api"
    )
