"""Running one docker step against the real Docker Engine, without a session."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runbook_tui.core.model import DockerAction, DockerSpec, Step, StepKind
from runbook_tui.core.steps.docker import DockerRunner

REPO = "rbt-test-dockerstep"


@dataclass
class Ctx:
    workdir: Path
    backup_dir: Path
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    drill: bool = False
    lines: list[tuple[str, str]] = field(default_factory=list)

    def output(self, text: str, stream: str = "stdout") -> None:
        self.lines.append((stream, text))


def docker_step(action: DockerAction, **spec: Any) -> Step:
    return Step(id="d", title="docker", kind=StepKind.DOCKER, spec=DockerSpec(action=action, **spec))


async def run_docker_step(
    tmp_path: Path, action: DockerAction, env: Mapping[str, str] | None = None, **spec: Any
) -> Any:
    ctx = Ctx(tmp_path, tmp_path / "b") if env is None else Ctx(tmp_path, tmp_path / "b", env=env)
    return await DockerRunner().run(docker_step(action, **spec), ctx), ctx
