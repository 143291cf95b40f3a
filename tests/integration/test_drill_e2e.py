"""End to end: every procedure of every bundled runbook runs to success headless in its drill,
and every fault makes the right step fail with a message that says what to do.

Runs ``runbook-tui run RUNBOOK PROCEDURE --drill --plain --yes`` as a user would, then reads
the session's journal (in the test's own data folder) to see which steps passed and failed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.cli import cli_argv

from runbook_tui.core.drills import find_drill
from runbook_tui.core.events import OutputLine, StepFinished
from runbook_tui.core.journal import load
from runbook_tui.core.library import resolve_runbook

RUNBOOKS = ("connectin", "connectias", "strict-connection-flow")
DOCKER_RUNBOOKS = {"connectin"}
HANG_SECONDS = "3"  # how long a hanging stand-in hangs before it gives up, in tests
RUN_TIME_BOX = 150  # seconds; the slowest drill run (health retries cut to retry_limit) takes about 15

pytestmark = [pytest.mark.timeout(300), pytest.mark.xdist_group("drill"), pytest.mark.slow]


def _cases() -> list[object]:
    cases = []
    for rb_id in RUNBOOKS:
        marks = [pytest.mark.docker] if rb_id in DOCKER_RUNBOOKS else []
        for proc in resolve_runbook(rb_id).procedures:
            cases.append(pytest.param(rb_id, proc.id, marks=marks, id=f"{rb_id}:{proc.id}"))
    return cases


def _fault_cases() -> list[object]:
    cases = []
    for rb_id in RUNBOOKS:
        marks = [pytest.mark.docker] if rb_id in DOCKER_RUNBOOKS else []
        for fault in find_drill(resolve_runbook(rb_id)).faults:
            cases.append(pytest.param(rb_id, fault.name, marks=marks, id=f"{rb_id}:{fault.name}"))
    return cases


def _run(rb_id: str, procedure: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], list[object]]:
    drill = find_drill(resolve_runbook(rb_id))
    params = [f"--param={k}={v}" for k, v in drill.params.items()]
    env = {**os.environ, "DRILL_HANG_SECONDS": HANG_SECONDS}
    command = cli_argv("run", rb_id, procedure, "--drill", "--plain", "--yes")
    proc = _run_interruptibly([*command, *params, *extra], env)
    sessions = Path(os.environ["RUNBOOK_TUI_DATA_DIR"]) / "sessions"
    journals = sorted(sessions.glob(f"*-{rb_id}-*.jsonl")) if sessions.is_dir() else []
    events = load(journals[-1]).events if journals else []
    return proc, events


def _run_interruptibly(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the CLI; past the time box, Ctrl-C it (so it tears its sandbox down) and fail."""
    child = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env
    )
    try:
        out, err = child.communicate(timeout=RUN_TIME_BOX)
    except subprocess.TimeoutExpired:
        child.send_signal(signal.SIGINT)
        try:
            out, err = child.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()
            out, err = child.communicate()
        pytest.fail(
            f"{' '.join(command[3:6])} ran past {RUN_TIME_BOX}s and was interrupted\n{out[-3000:]}\n{err}"
        )
    return subprocess.CompletedProcess(command, child.returncode, out, err)


@pytest.fixture(autouse=True)
def no_drill_left_running() -> Iterator[None]:
    """Every drill tears down: no drill-* compose project is left (none leaks into the next test)."""
    yield
    if shutil.which("docker") is None:
        return
    listed = subprocess.run(["docker", "compose", "ls", "-a", "-q"], capture_output=True, text=True)
    left = [name for name in listed.stdout.split() if name.startswith("drill-")]
    for name in left:
        subprocess.run(["docker", "compose", "-p", name, "down", "--timeout", "1"], capture_output=True)
    assert left == [], f"compose projects left running after the drill: {left}"


def _failed_steps(events: list[object]) -> list[str]:
    return [e.step_id for e in events if isinstance(e, StepFinished) and e.status == "failed"]


@pytest.mark.parametrize(("rb_id", "procedure"), _cases())
def test_every_procedure_succeeds_in_its_drill(rb_id: str, procedure: str) -> None:
    proc, events = _run(rb_id, procedure)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    assert events, "no session journal was written"
    assert _failed_steps(events) == []
    assert events[0].mode == "drill"  # type: ignore[attr-defined]


@pytest.mark.parametrize(("rb_id", "fault_name"), _fault_cases())
def test_each_fault_fails_the_right_step_and_says_what_to_do(rb_id: str, fault_name: str) -> None:
    fault = find_drill(resolve_runbook(rb_id)).fault(fault_name)
    assert fault is not None and fault.procedure and fault.fails_step
    proc, events = _run(rb_id, fault.procedure, f"--fault={fault_name}")
    assert proc.returncode == 1, f"exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    assert _failed_steps(events) == [fault.fails_step]
    said = "\n".join(
        [e.text for e in events if isinstance(e, OutputLine) and e.step_id == fault.fails_step]
        + [e.message for e in events if isinstance(e, StepFinished) and e.step_id == fault.fails_step]
    )
    assert fault.expect in said, said[-3000:]
