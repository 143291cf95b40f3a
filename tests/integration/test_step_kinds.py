"""Each step kind is one module, core/steps/<kind>.py, found by the registry: a new kind is a new module."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers.paths import REPO_ROOT

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

REPO = REPO_ROOT


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


def test_the_kinds_that_edit_files_say_so() -> None:
    edits = {kind for kind, definition in registry.KINDS.items() if definition.edits}
    assert edits == {StepKind.CARGO_FEATURES, StepKind.COMPOSE_IMAGE}


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


# Loading a runbook imports every kind's module, but what its runner needs waits until it runs.
PROBE = """
import json, sys
from pathlib import Path
from runbook_tui.core.loader import load_runbook
for path in sys.argv[1:]:
    load_runbook(Path(path))
heavy = ["docker", "requests", "httpx", "tomlkit", "ansible", "ansible_runner"]
heavy += ["asyncio", "ssl", "runbook_tui.core.events", "runbook_tui.core.fleet"]  # the runners' own
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


# --- adding a kind: one new module, nothing else edited ------------------------------
# The recipe of docs/architecture.md ("Adding a step kind"), followed by a test-only kind.
# The module goes in a folder of its own that the child process adds to the package's
# search path, so it is imported exactly as core/steps/<kind>.py would be.

STAMP_MODULE = '''
"""The ``stamp`` step kind (test-only): write a line to a file in the working directory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from ..model import Step, StepKind
from .base import KindDef, StepContext, StepOutcome, StepRunner

if TYPE_CHECKING:
    from ..loader.nodes import MappedNode, NodeReader


@dataclass(frozen=True, slots=True)
class StampSpec:
    """Write ``text`` and a newline to ``file`` (relative to the working directory)."""

    file: str
    text: str = "stamped"


def read(r: NodeReader, m: MappedNode, what: str) -> StampSpec:
    """A stamp step's keys."""
    return StampSpec(file=r.text(m, "file", what), text=r.text(m, "text", what, "stamped"))


def describe(spec: StampSpec) -> str:
    """What the step will write, and where."""
    return f"stamp {spec.text!r} into {spec.file}"


class StampRunner(StepRunner):
    """Writes the file."""

    kind: ClassVar[StepKind] = StepKind("stamp")

    async def run(self, step: Step, ctx: StepContext) -> StepOutcome:
        spec = step.spec
        assert isinstance(spec, StampSpec)
        (ctx.workdir / spec.file).write_text(spec.text + "\\n")
        ctx.output(f"stamped {spec.file}")
        return StepOutcome.passed(f"wrote {spec.file}")


KIND = KindDef(
    spec=StampSpec,
    keys=frozenset({"file", "text"}),
    required=("file",),
    read=read,
    describe=describe,
    runner=StampRunner,
)
'''

STAMP_RUNBOOK = """\
runbook: 1
id: stamped
title: Stamped
parameters:
  - name: WHO
    default: alice
procedures:
  - id: main
    title: Main
    steps:
      - id: mark
        title: Mark it
        kind: stamp
        file: out.txt
        text: "rolled back by {{WHO}}"
      - id: check
        title: Check it
        kind: shell
        command: grep -q 'by alice' out.txt
"""

# The CLI, with the folder of the new kind module added to core/steps' search path.
DRIVER = """
import sys
import runbook_tui.core.steps
runbook_tui.core.steps.__path__.append(sys.argv[1])
from runbook_tui.cli import main
raise SystemExit(main(sys.argv[2:]))
"""


def _cli(kinds: Path | None, *args: str) -> subprocess.CompletedProcess[str]:
    command = (
        [sys.executable, "-c", DRIVER, str(kinds), *args]
        if kinds
        else [sys.executable, "-m", "runbook_tui", *args]
    )
    return subprocess.run(
        command, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120, cwd=REPO
    )


def test_a_kind_added_as_one_module_is_loaded_and_run_by_the_real_loader_and_engine(tmp_path: Path) -> None:
    kinds = tmp_path / "kinds"
    kinds.mkdir()
    (kinds / "stamp.py").write_text(STAMP_MODULE)
    runbook = tmp_path / "stamped.yaml"
    runbook.write_text(STAMP_RUNBOOK)
    work = tmp_path / "work"
    work.mkdir()

    without = _cli(None, "validate", str(runbook))
    assert without.returncode == 1
    assert "unknown step kind 'stamp'; kinds: shell, http," in without.stdout + without.stderr

    validated = _cli(kinds, "validate", str(runbook))
    assert validated.returncode == 0, validated.stdout + validated.stderr

    ran = _cli(kinds, "run", str(runbook), "main", "--plain", "--yes", "--workdir", str(work))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert (work / "out.txt").read_text() == "rolled back by alice\n"  # the engine filled the new spec
    assert "mark stdout| stamped out.txt" in ran.stdout
    assert "PASSED after" in ran.stdout and "wrote out.txt" in ran.stdout

    # Added kinds come after the built-in ones, by name, in the loader's messages.
    runbook.write_text(STAMP_RUNBOOK.replace("kind: stamp\n", "kind: stamps\n"))
    typo = _cli(kinds, "validate", str(runbook))
    assert typo.returncode == 1
    assert "unknown step kind 'stamps' (did you mean 'stamp'?); kinds: shell, " in typo.stdout
    assert "watch, ansible, stamp\n" in typo.stdout


def test_the_library_index_is_stale_once_a_kind_module_changes() -> None:
    # Adding or editing a kind changes which runbooks are valid: the index must not outlive it.
    from runbook_tui.core import library_cache

    module = REPO / "runbook_tui" / "core" / "steps" / "manual.py"
    before = module.stat()
    later = library_cache.code_stamp() + 10**9
    try:
        os.utime(module, ns=(before.st_atime_ns, later))
        assert library_cache.code_stamp() == later
    finally:
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))
