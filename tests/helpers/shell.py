"""Running one shell step against a real process, without a session."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from runbook_tui.core.events import StepStatus
from runbook_tui.core.model import ShellSpec, Step, StepKind
from runbook_tui.core.steps.shell import (
    ShellRunner,
)


@dataclass
class Ctx:
    """The StepContext interface, collecting output lines with their arrival time."""

    workdir: Path
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    drill: bool = False
    backup_dir: Path = Path("/nonexistent")
    lines: list[tuple[str, str]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    def output(self, text: str, stream: str = "stdout") -> None:
        self.lines.append((stream, text))
        self.times.append(time.monotonic())

    def output_lines(self, lines: list[str], stream: str = "stdout") -> None:
        for line in lines:
            self.output(line, stream)

    def texts(self, stream: str = "stdout") -> list[str]:
        return [text for s, text in self.lines if s == stream]


def shell_step(command: str, *, timeout: float | None = None, **spec: object) -> Step:
    return Step("s1", "a shell step", StepKind.SHELL, ShellSpec(command, **spec), timeout=timeout)  # type: ignore[arg-type]


async def run(command: str, tmp_path: Path, **kw: object) -> tuple[Ctx, StepStatus, str, int | None]:
    ctx = Ctx(tmp_path)
    outcome = await ShellRunner().run(shell_step(command, **kw), ctx)  # type: ignore[arg-type]
    return ctx, outcome.status, outcome.message, outcome.exit_code
