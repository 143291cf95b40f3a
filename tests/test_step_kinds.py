"""Each step kind is one module, core/steps/<kind>.py, found by the registry: a new kind is a new module."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from runbook_tui.core.loader import load_text
from runbook_tui.core.model import (
    BUILT_IN_KINDS,
    ConfirmSpec,
    GitAction,
    GitSpec,
    ManualSpec,
    ShellSpec,
    Step,
    StepKind,
)
from runbook_tui.core.steps import registry

REPO = Path(__file__).resolve().parents[1]


def test_every_kind_is_one_module_with_its_spec_and_its_runner() -> None:
    assert list(registry.KINDS) == list(BUILT_IN_KINDS)
    for kind, definition in registry.KINDS.items():
        home = f"runbook_tui.core.steps.{kind.value}"
        assert definition.spec.__module__ == home
        assert definition.runner is None or definition.runner.__module__ == home


def test_a_kind_is_one_value_per_name_so_is_compares_as_with_the_enum() -> None:
    assert StepKind("watch") is StepKind.WATCH
    assert StepKind("stamp") is StepKind("stamp")
    assert StepKind.SHELL == "shell" and StepKind.SHELL.value == "shell"
    assert f"{StepKind.CARGO_FEATURES}" == "cargo_features"
    assert json.dumps({"kind": StepKind.GIT}) == '{"kind": "git"}'


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


# Loading a runbook reads every kind's module, but a runner's libraries wait until it runs.
PROBE = """
import json, sys
from pathlib import Path
from runbook_tui.core.loader import load_runbook
for path in sys.argv[1:]:
    load_runbook(Path(path))
heavy = ["docker", "requests", "httpx", "tomlkit", "ansible", "ansible_runner"]
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


def test_loading_a_runbook_imports_no_runners_library() -> None:
    paths = [str(p) for p in sorted((REPO / "runbooks").glob("*.yaml"))]
    assert paths
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *paths], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
