"""Shell steps fail closed: ``bash -e -o pipefail`` with -E and inherit_errexit, real bash.

A failing line stops the step and is named in its outcome; a producer killed by
SIGPIPE because its consumer stopped reading does not fail it; ``||`` and ``if``
still handle failures; ``strict: false`` opts out.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from helpers.cli import cli_argv
from helpers.engine import write_runbook
from helpers.shell import Ctx, run, shell_step

from runbook_tui.core.errors import RunbookTuiError
from runbook_tui.core.events import StepStatus
from runbook_tui.core.loader import load_runbook
from runbook_tui.core.model import ShellSpec, Step, StepKind, WatchSpec
from runbook_tui.core.steps.shell import ShellRunner
from runbook_tui.core.steps.watch import WatchRunner


async def test_a_failing_first_line_fails_the_step_names_it_and_stops(tmp_path: Path) -> None:
    ctx, status, message, code = await run("false\necho second", tmp_path)
    assert status is StepStatus.FAILED and code == 1
    assert "second" not in ctx.texts()
    assert "line 1" in message and "false" in message


async def test_the_failing_line_is_named_among_several(tmp_path: Path) -> None:
    ctx, status, message, _ = await run("echo one\necho two\ngrep -q nothere /dev/null\necho four", tmp_path)
    assert status is StepStatus.FAILED
    assert ctx.texts() == ["one", "two"]
    assert "line 3" in message and "grep -q nothere /dev/null" in message


async def test_the_failure_report_is_not_mixed_into_stderr(tmp_path: Path) -> None:
    ctx, status, message, _ = await run("false", tmp_path)
    assert status is StepStatus.FAILED and "line 1" in message
    assert ctx.texts("stderr") == []


async def test_a_missing_command_feeding_a_pipe_fails(tmp_path: Path) -> None:
    ctx, status, message, code = await run("missing-command-xyz | head -5\necho after", tmp_path)
    assert status is StepStatus.FAILED and code == 127
    assert "after" not in ctx.texts()
    assert "line 1" in message and "missing-command-xyz" in message


async def test_a_producer_stopped_by_sigpipe_does_not_fail(tmp_path: Path) -> None:
    ctx, status, message, code = await run("yes | head -5\nseq 1 1000000 | head -1\necho after", tmp_path)
    assert status is StepStatus.PASSED, message
    assert code == 0
    assert ctx.texts() == ["y"] * 5 + ["1", "after"]


async def test_sigpipe_on_the_last_line_passes(tmp_path: Path) -> None:
    _, status, message, code = await run("yes | head -5", tmp_path)
    assert status is StepStatus.PASSED and code == 0, message


async def test_errexit_is_back_on_after_a_sigpipe(tmp_path: Path) -> None:
    ctx, status, message, _ = await run("yes | head -1\nfalse\necho no", tmp_path)
    assert status is StepStatus.FAILED and "line 2" in message
    assert "no" not in ctx.texts()


async def test_handled_failures_keep_working(tmp_path: Path) -> None:
    ctx, status, message, _ = await run(
        "false || echo handled\nif false; then echo no; else echo else; fi\n! false\necho end", tmp_path
    )
    assert status is StepStatus.PASSED, message
    assert ctx.texts() == ["handled", "else", "end"]


async def test_a_failure_inside_command_substitution_counts(tmp_path: Path) -> None:
    ctx, status, message, _ = await run('x="$(false; echo inner)"\necho "got $x"', tmp_path)
    assert status is StepStatus.FAILED
    assert ctx.texts() == []
    assert "line 1" in message


async def test_a_failure_inside_a_function_names_its_line(tmp_path: Path) -> None:
    ctx, status, message, _ = await run("f() {\n  echo in\n  false\n}\nf\necho after", tmp_path)
    assert status is StepStatus.FAILED
    assert ctx.texts() == ["in"]
    assert "line 3" in message


async def test_set_plus_e_in_the_command_is_honoured(tmp_path: Path) -> None:
    ctx, status, message, _ = await run("set +e\nfalse\necho still\nexit 0", tmp_path)
    assert status is StepStatus.PASSED, message
    assert ctx.texts() == ["still"]


async def test_expect_exit_still_applies(tmp_path: Path) -> None:
    _, status, message, code = await run("exit 3", tmp_path, expect_exit=3)
    assert status is StepStatus.PASSED and code == 3, message


async def test_strict_false_runs_without_errexit(tmp_path: Path) -> None:
    ctx, status, message, code = await run("false\necho second", tmp_path, strict=False)
    assert status is StepStatus.PASSED and code == 0, message
    assert ctx.texts() == ["second"]


async def test_strict_false_is_said_in_the_description() -> None:
    assert "strict: false" in ShellRunner().describe(shell_step("true", strict=False))
    assert "strict" not in ShellRunner().describe(shell_step("true"))


async def test_a_watch_fails_closed_too(tmp_path: Path) -> None:
    ctx = Ctx(tmp_path)
    step = Step("w", "a watch", StepKind.WATCH, WatchSpec("false\necho second", duration=5))
    outcome = await WatchRunner().run(step, ctx)  # type: ignore[arg-type]
    assert outcome.status is StepStatus.FAILED
    assert "second" not in ctx.texts()
    assert "line 1" in outcome.message


def test_the_loader_reads_strict_and_show_makes_it_visible(tmp_path: Path) -> None:
    text = """
    runbook: 1
    id: loose
    title: Loose
    procedures:
      - id: main
        title: Main
        steps:
          - id: tolerant
            title: Tolerant
            kind: shell
            command: "false; echo second"
            strict: false
          - id: normal
            title: Normal
            kind: shell
            command: "true"
    """
    path = write_runbook(tmp_path, text)
    runbook = load_runbook(path)
    steps = runbook.procedures[0].steps
    assert isinstance(steps[0].spec, ShellSpec) and steps[0].spec.strict is False
    assert isinstance(steps[1].spec, ShellSpec) and steps[1].spec.strict is True
    show = cli_argv("show", str(path))
    outline = subprocess.run(show, capture_output=True, text=True, check=True).stdout
    assert "tolerant: Tolerant  (strict: false)" in outline
    assert "normal: Normal\n" in outline
    as_json = json.loads(subprocess.run([*show, "--json"], capture_output=True, text=True, check=True).stdout)
    shown = {s["id"]: s["strict"] for s in as_json["procedures"][0]["steps"]}
    assert shown == {"tolerant": False, "normal": True}


def test_a_strict_value_that_is_not_a_boolean_is_a_load_error(tmp_path: Path) -> None:

    text = """
    runbook: 1
    id: loose
    title: Loose
    procedures:
      - id: main
        title: Main
        steps:
          - id: tolerant
            title: Tolerant
            kind: shell
            command: "true"
            strict: maybe
    """
    with pytest.raises(RunbookTuiError, match=r"'strict' of .* must be true or false"):
        load_runbook(write_runbook(tmp_path, text))
