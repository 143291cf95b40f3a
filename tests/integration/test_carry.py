"""Values carried from step to step, captures, run-from and retry: real bash, real journals."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers.cli import cli_argv, run_cli
from helpers.engine import Recorder, ScriptedAsker, runbook_from, write_runbook

from runbook_tui.core import events as ev
from runbook_tui.core import preflight
from runbook_tui.core.asker import YesAsker
from runbook_tui.core.engine import Session
from runbook_tui.core.events import Outcome, StepStatus
from runbook_tui.core.journal import Journal, load, new_session_id
from runbook_tui.core.journal.fold import fold
from runbook_tui.core.loader import RunbookLoadError, load_runbook
from runbook_tui.core.report.markdown import render as render_markdown
from runbook_tui.core.report.timeline import build_report
from runbook_tui.core.shell_syntax import top_level_assignments

CARRY = """
runbook: 1
id: carry
title: Carry
procedures:
  - id: main
    title: Main
    steps:
      - id: pick-version
        title: Pick the version
        kind: shell
        command: |
          TARGET_VERSION="v1.2.3"
          export REGION=eu-west
          API_TOKEN=$(printf 'tok-%s' very-secret-1234)
          inner() { FROM_FUNCTION=1; }
          ( FROM_SUBSHELL=1 )
          FROM_PREFIX=1 true
      - id: use
        title: Use it
        kind: shell
        command: |
          echo "version=$TARGET_VERSION region=$REGION token=$API_TOKEN"
          echo "fn=${FROM_FUNCTION:-none} sub=${FROM_SUBSHELL:-none} prefix=${FROM_PREFIX:-none}"
          echo "$TARGET_VERSION $REGION $API_TOKEN" > used.txt
"""


def _session(tmp_path: Path, text: str, asker: object | None = None) -> tuple[Session, Recorder]:
    runbook = runbook_from(tmp_path, text)
    journal = Journal.create(new_session_id(runbook.id))
    session = Session(runbook, "main", workdir=tmp_path, ask=asker or YesAsker(), journal=journal)  # type: ignore[arg-type]
    recorder = Recorder()
    session.subscribe(recorder)
    return session, recorder


def test_top_level_assignments_leave_out_functions_subshells_and_prefixes() -> None:
    text = "A=1\nexport B=x\nf(){ C=2; }\n( D=3 )\nE=4 cmd\nif true; then H=1; fi\nx | N=1\nread -r R\n"
    assert top_level_assignments(text) == ["A", "B", "H", "R"]


def test_exported_and_plain_assignments_reach_later_steps_and_are_journalled(tmp_path: Path) -> None:
    session, recorder = _session(tmp_path, CARRY)

    async def go() -> None:
        await session.start()
        assert await session.run_all() is True
        await session.finish()

    asyncio.run(go())
    lines = [e.text for e in recorder.output("use")]
    assert "version=v1.2.3 region=eu-west token=••••••" in lines  # the secret is masked in output
    assert "fn=none sub=none prefix=none" in lines
    assert (tmp_path / "used.txt").read_text() == "v1.2.3 eu-west tok-very-secret-1234\n"
    carried = {e.name: e for e in recorder.of(ev.VariableCarried)}  # type: ignore[attr-defined]
    assert set(carried) == {"TARGET_VERSION", "REGION", "API_TOKEN"}
    assert carried["TARGET_VERSION"].value == "v1.2.3" and carried["TARGET_VERSION"].step_id == "pick-version"
    assert carried["API_TOKEN"].redacted and carried["API_TOKEN"].value != "tok-very-secret-1234"
    journal_text = Path(str(session.journal_path)).read_text()
    assert "tok-very-secret-1234" not in journal_text
    report = render_markdown(build_report(Path(str(session.journal_path))))
    assert "TARGET_VERSION set to v1.2.3 by step pick-version" in report


def test_preflight_counts_variables_assigned_by_earlier_steps(tmp_path: Path) -> None:
    runbook = runbook_from(tmp_path, CARRY)
    found = preflight.check(
        runbook, runbook.procedures[0], env={"PATH": os.environ["PATH"]}, workdir=tmp_path
    )
    assert [f.name for f in found if f.kind == "variable"] == []


CRASH = """
runbook: 1
id: carrycrash
title: Carry crash
procedures:
  - id: main
    title: Main
    steps:
      - id: pick-version
        title: Pick
        kind: shell
        command: |
          TARGET_VERSION=v1.2.3
          export REGION=eu-west
      - id: slow
        title: Slow
        kind: shell
        command: |
          if [ ! -e first-run ]; then touch first-run; sleep 60; fi
          echo "$TARGET_VERSION $REGION" > seen.txt
"""


def test_carried_values_survive_kill_9_and_resume(tmp_path: Path) -> None:
    path = write_runbook(tmp_path, CRASH)
    proc = subprocess.Popen(
        cli_argv("run", str(path), "main", "--plain", "--yes", "--workdir", str(tmp_path)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (tmp_path / "first-run").exists():
        time.sleep(0.05)
    assert (tmp_path / "first-run").exists(), "step slow never started"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    sessions = Path(os.environ["RUNBOOK_TUI_DATA_DIR"]) / "sessions"
    journal = next(sessions.glob("*.jsonl"))
    result = run_cli("resume", journal.stem, "--plain", "--yes")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "seen.txt").read_text() == "v1.2.3 eu-west\n"
    state = fold(load(journal).events)
    assert state.carried["TARGET_VERSION"].value == "v1.2.3"
    assert state.step("pick-version").attempts == 1  # not run again: the value came from the journal


CAPTURE = """
runbook: 1
id: capture
title: Capture
parameters:
  - name: previous_tag
    pattern: 'v[0-9]+[.][0-9]+[.][0-9]+'
procedures:
  - id: main
    title: Main
    steps:
      - id: find
        title: Find the previous tag
        kind: shell
        command: |
          printf '\\033[32mprevious: v1.4.2\\033[0m\\n'
        capture: {name: previous_tag, pattern: 'previous: (\\S+)'}
      - id: use
        title: Use it
        kind: shell
        command: echo "rolling back to {{previous_tag}}" > rolled.txt
"""


def test_capture_sets_a_parameter_from_the_output_colours_stripped(tmp_path: Path) -> None:
    session, recorder = _session(tmp_path, CAPTURE)

    async def go() -> None:
        await session.start()
        assert await session.run_all() is True
        await session.finish()

    asyncio.run(go())
    assert (tmp_path / "rolled.txt").read_text() == "rolling back to v1.4.2\n"
    sets = [e for e in recorder.of(ev.ParameterSet) if e.name == "previous_tag"]  # type: ignore[attr-defined]
    assert sets and sets[0].value == "v1.4.2" and sets[0].source == "capture:find"


def test_a_captured_value_is_checked_against_the_parameter_pattern(tmp_path: Path) -> None:
    session, _ = _session(tmp_path, CAPTURE.replace("v1.4.2", "latest"))

    async def go() -> None:
        await session.start()
        assert await session.run_all() is False
        await session.finish()

    asyncio.run(go())
    step = session.state.step("find")
    assert step.status is StepStatus.FAILED and "previous_tag" in step.message
    assert not (tmp_path / "rolled.txt").exists()


def test_capture_of_an_undeclared_parameter_is_a_load_error(tmp_path: Path) -> None:
    path = write_runbook(tmp_path, CAPTURE.replace("name: previous_tag, pattern", "name: nope, pattern"))
    try:
        load_runbook(path)
    except RunbookLoadError as exc:
        assert "'name' of 'capture'" in str(exc) and "nope" not in str(exc).split("declared:")[1]
    else:
        raise AssertionError("an undeclared capture name loaded")


RETRY = """
runbook: 1
id: retry
title: Retry
procedures:
  - id: main
    title: Main
    steps:
      - id: one
        title: One
        kind: shell
        command: echo one >> ran.txt
      - id: flaky
        title: Flaky
        kind: shell
        command: |
          echo flaky >> ran.txt
          test -e fixed
      - id: three
        title: Three
        kind: shell
        command: echo three >> ran.txt
"""


def test_a_failed_step_is_retried_alone_and_the_retry_is_journalled_and_reported(tmp_path: Path) -> None:
    session, _ = _session(tmp_path, RETRY)

    async def go() -> None:
        await session.start()
        assert await session.run_all() is False
        (tmp_path / "fixed").touch()
        assert await session.retry("flaky") is StepStatus.PASSED
        assert await session.run_all() is True
        assert await session.finish() is Outcome.SUCCEEDED

    asyncio.run(go())
    assert (tmp_path / "ran.txt").read_text().split() == ["one", "flaky", "flaky", "three"]
    state = fold(load(Path(str(session.journal_path))).events)
    assert state.step("flaky").attempts == 2
    assert [type(r).__name__ for r in state.restarts] == ["RetryRequested"]
    report = render_markdown(build_report(Path(str(session.journal_path))))
    assert "retried flaky (attempt 2)" in report


def test_run_from_a_step_skips_over_earlier_ones_and_reruns_later_ones(tmp_path: Path) -> None:
    session, _ = _session(tmp_path, RETRY)

    async def go() -> None:
        await session.start()
        assert await session.run_all() is False  # flaky failed; three never ran
        (tmp_path / "fixed").touch()
        skipped, rerun = session.run_from("three", by="ana@host")
        assert skipped == ["flaky"] and rerun == []
        assert await session.run_all() is True
        await session.finish()

    asyncio.run(go())
    assert (tmp_path / "ran.txt").read_text().split() == ["one", "flaky", "three"]
    state = fold(load(Path(str(session.journal_path))).events)
    assert state.step("flaky").status is StepStatus.SKIPPED
    assert "ana@host" in (state.step("flaky").skip_reason or "")
    report = render_markdown(build_report(Path(str(session.journal_path))))
    assert "ana@host chose to run from three" in report


def test_resume_from_a_step_runs_it_again(tmp_path: Path) -> None:
    runbook = runbook_from(tmp_path, RETRY.replace("test -e fixed", "true"))
    journal = Journal.create(new_session_id(runbook.id))
    session = Session(runbook, "main", workdir=tmp_path, ask=ScriptedAsker(), journal=journal)

    async def first() -> None:
        await session.start()
        await session.run_step("one")
        await session.run_step("flaky")
        session.close()

    asyncio.run(first())
    result = run_cli("resume", journal.path.stem, "--plain", "--yes", "--from", "one")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "ran.txt").read_text().split() == ["one", "flaky", "one", "flaky", "three"]
    state = fold(load(journal.path).events)
    run_from = [r for r in state.restarts if isinstance(r, ev.RunFrom)]
    assert run_from and run_from[0].rerun == ["one", "flaky"]


SECRET_CARRY = """
runbook: 1
id: secretcarry
title: Secret carry
procedures:
  - id: main
    title: Main
    steps:
      - id: login
        title: Log in
        kind: shell
        command: DEPLOY_TOKEN=$(printf 'tok-%s' abcdef123456)
      - id: use
        title: Use it
        kind: shell
        command: echo "$DEPLOY_TOKEN" > token.txt
"""


def test_a_redacted_carried_value_is_asked_for_again_on_resume(tmp_path: Path) -> None:
    runbook = runbook_from(tmp_path, SECRET_CARRY)
    journal = Journal.create(new_session_id(runbook.id))
    first = Session(runbook, "main", workdir=tmp_path, ask=ScriptedAsker(), journal=journal)

    async def go_first() -> None:
        await first.start()
        assert await first.run_step("login") is StepStatus.PASSED
        first.close()

    asyncio.run(go_first())
    assert "tok-abcdef123456" not in journal.path.read_text()
    asker = ScriptedAsker(params={"DEPLOY_TOKEN": "tok-given-again"})
    resumed = Session.resume(journal.path, runbook, asker, workdir=tmp_path)
    assert any("DEPLOY_TOKEN" in w and "asked for again" in w for w in resumed.warnings)

    async def go_on() -> None:
        await resumed.start()
        assert await resumed.run_all() is True
        await resumed.finish()

    asyncio.run(go_on())
    assert asker.asked == [("DEPLOY_TOKEN", [])]
    assert (tmp_path / "token.txt").read_text() == "tok-given-again\n"
    assert "tok-given-again" not in journal.path.read_text()


def test_plain_run_offers_to_retry_a_failed_step_alone(tmp_path: Path) -> None:
    import pexpect

    path = write_runbook(tmp_path, RETRY)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "runbook_tui", "run", str(path), "main", "--plain", "--workdir", str(tmp_path)],
        encoding="utf-8",
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    child.expect("step flaky failed. Retry it alone")
    (tmp_path / "fixed").touch()
    child.sendline("r")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    assert (tmp_path / "ran.txt").read_text().split() == ["one", "flaky", "flaky", "three"]
    journal = next((Path(os.environ["RUNBOOK_TUI_DATA_DIR"]) / "sessions").glob("*.jsonl"))
    state = fold(load(journal).events)
    assert state.step("flaky").attempts == 2 and state.outcome == "succeeded"
    assert [type(r).__name__ for r in state.restarts] == ["RetryRequested"]
