"""Each step kind is one module under core/steps/kinds/, found through the registry."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers.paths import REPO_ROOT

from runbook_tui.core import model
from runbook_tui.core.loader import load_text
from runbook_tui.core.model import ConfirmSpec, GitAction, GitSpec, ManualSpec, ShellSpec, Step, StepKind
from runbook_tui.core.steps import registry

REPO = REPO_ROOT


def test_every_kind_has_one_definition_with_the_models_spec() -> None:
    assert list(registry.KINDS) == list(StepKind)
    for kind, definition in registry.KINDS.items():
        assert definition.name == kind.value
        assert model.SPEC_FOR_KIND[kind] is definition.spec


def test_the_engine_runs_manual_and_confirm_itself() -> None:
    runs_itself = {kind for kind, definition in registry.KINDS.items() if definition.runner is None}
    assert runs_itself == {StepKind.MANUAL, StepKind.CONFIRM}


def test_a_step_is_described_by_its_kind_or_by_its_title() -> None:
    def step(kind: StepKind, spec: object) -> Step:
        return Step("s", "The title", kind, spec)  # type: ignore[arg-type]

    assert registry.describe(step(StepKind.SHELL, ShellSpec("echo {{x}}"))) == "echo {{x}}"
    assert registry.describe(step(StepKind.SHELL, ShellSpec(""))) == "The title"
    assert registry.describe(step(StepKind.MANUAL, ManualSpec())) == "The title"
    assert registry.describe(step(StepKind.MANUAL, ManualSpec("Tick it"))) == "Tick it"
    assert registry.describe(step(StepKind.CONFIRM, ConfirmSpec("Really?"))) == "Really?"
    assert registry.describe(step(StepKind.GIT, GitSpec(GitAction.TAGS))) == "The title"


def test_a_kind_module_reads_its_own_keys() -> None:
    runbook = load_text(
        "runbook: 1\nid: r\ntitle: R\nprocedures:\n  - id: p\n    title: P\n    steps:\n"
        "      - id: t\n        title: T\n        kind: git\n        action: tag\n        tag: v1\n"
        "        message: roll back\n",
        "r.yaml",
    )
    spec = runbook.procedures[0].steps[0].spec
    assert spec == GitSpec(GitAction.TAG, tag="v1", message="roll back")


# Loading a runbook reads every kind's keys, but must not import a runner or its dependencies.
PROBE = """
import json, sys
from pathlib import Path
from runbook_tui.core.loader import load_runbook
for path in sys.argv[1:]:
    load_runbook(Path(path))
heavy = ["docker", "httpx", "tomlkit", "ansible_runner"]
heavy += ["runbook_tui.core.steps." + m for m in ("shell", "http", "docker", "git", "watch", "ansible")]
heavy += ["runbook_tui.core.steps.cargo_features", "runbook_tui.core.steps.compose_image"]
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


def test_loading_a_runbook_imports_no_runner() -> None:
    paths = [str(p) for p in sorted((REPO / "runbooks").glob("*.yaml"))]
    assert paths
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *paths], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
