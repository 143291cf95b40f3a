"""``runbook-tui run --plain`` as a real subprocess: lines, gates, exit codes 0/1/2, Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers.cli import cli_argv, run_cli
from helpers.engine import write_runbook

from runbook_tui.core import events as ev
from runbook_tui.core.journal import load
from runbook_tui.core.journal.fold import fold

LINE = re.compile(r"^\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d ")

RUNBOOK = """
runbook: 1
id: plain
title: Plain
parameters:
  - name: tag
    pattern: '^v[0-9]+(\\.[0-9]+)*$'
    example: v1.2.3
    default: v1.0.0
procedures:
  - id: main
    title: Main
    prechecks:
      - id: pre
        title: Pre
        kind: shell
        command: "{pre}"
    steps:
      - id: colour
        title: Colour
        kind: shell
        command: |
          printf '\\033[32mgreen %s\\033[0m\\n' {{{{tag}}}}; echo oops >&2
      - id: drop
        title: Drop
        kind: shell
        command: "touch dropped"
        destructive: true
"""


def _run(
    tmp_path: Path, *args: str, pre: str = "true", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    path = write_runbook(tmp_path, RUNBOOK.format(pre=pre))
    return run_cli("run", str(path), "main", "--plain", "--workdir", str(tmp_path), *args, timeout=timeout)


def _journal(stdout: str) -> Path:
    match = re.search(r"^journal: (.+\.jsonl)$", stdout, re.M)
    assert match, stdout
    return Path(match.group(1))


def test_success_exits_0_with_one_line_per_event_and_no_escape_codes(tmp_path: Path) -> None:
    done = _run(tmp_path, "--yes", "--param", "tag=v2.1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "\x1b" not in done.stdout
    lines = done.stdout.splitlines()
    timed = [line for line in lines if LINE.match(line)]
    assert any(re.search(r" colour stdout\| green v2\.1$", line) for line in timed)
    assert any(re.search(r" colour stderr\| oops$", line) for line in timed)
    assert any(" confirmation_given " in line and "--yes" in line for line in timed)
    assert any(" session_finished " in line and "SUCCEEDED" in line for line in timed)
    assert (tmp_path / "dropped").exists()
    journal = _journal(done.stdout)
    state = fold(load(journal).events)
    assert state.outcome == "succeeded" and state.params["tag"] == "v2.1"
    assert state.step("drop").confirmed_by == "--yes"


def test_a_gate_without_a_terminal_and_without_yes_fails_closed(tmp_path: Path) -> None:
    done = _run(tmp_path)
    assert done.returncode == 1
    assert "pass --yes" in done.stdout
    assert not (tmp_path / "dropped").exists()
    state = fold(load(_journal(done.stdout)).events)
    assert state.step("drop").declined and state.outcome == "failed"
    assert state.params["tag"] == "v1.0.0" and state.param_sources["tag"] == "default"


def test_a_failed_check_exits_1(tmp_path: Path) -> None:
    done = _run(tmp_path, "--yes", pre="echo down >&2; exit 4")
    assert done.returncode == 1
    assert re.search(r"step_finished\s+pre\s+FAILED .*\(exit 4\)", done.stdout)
    assert "colour stdout" not in done.stdout


def test_bad_usage_exits_2_naming_the_parameter_and_the_rule(tmp_path: Path) -> None:
    done = _run(tmp_path, "--param", "tag=latest; rm -rf ~")
    assert done.returncode == 2
    assert "parameter 'tag': 'latest; rm -rf ~' does not match" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_every_kind_of_bad_usage_is_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from runbook_tui.cli import main

    path = str(write_runbook(tmp_path, RUNBOOK.format(pre="true")))
    cases = {
        (path, "main", "--param", "tag"): "--param 'tag' is not NAME=VALUE",
        (path, "main", "--param", "colour=red"): "parameter 'colour': is not declared by runbook 'plain'",
        (
            path,
            "main",
            "--param",
            "tag=1.2",
        ): "'1.2' does not match ^v[0-9]+(\\.[0-9]+)*$ (for example v1.2.3)",
        (path, "rollback"): "no procedure 'rollback'; it has: main",
        (str(tmp_path / "nope.yaml"), "main"): "nope.yaml",
        (path, "main", "--workdir", str(tmp_path / "absent")): "is not a folder",
    }
    for args, message in cases.items():
        assert main(["run", *args, "--plain"]) == 2, args
        err = capsys.readouterr().err
        assert message in err, (args, err)


def test_bad_usage_writes_no_journal(tmp_path: Path) -> None:
    sessions = Path(os.environ["RUNBOOK_TUI_DATA_DIR"]) / "sessions"
    before = set(sessions.glob("*.jsonl")) if sessions.exists() else set()
    assert _run(tmp_path, "--param", "tag=nope").returncode == 2
    after = set(sessions.glob("*.jsonl")) if sessions.exists() else set()
    assert after == before


def test_ctrl_c_cancels_the_step_and_finishes_aborted(tmp_path: Path) -> None:
    path = write_runbook(
        tmp_path,
        """
        runbook: 1
        id: sigint
        title: Sigint
        procedures:
          - id: main
            title: Main
            steps:
              - id: long
                title: Long
                kind: shell
                command: "echo $$ > pid; echo started; sleep 60"
              - id: never
                title: Never
                kind: shell
                command: "touch never"
        """,
    )
    proc = subprocess.Popen(
        cli_argv("run", str(path), "main", "--plain", "--workdir", str(tmp_path)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not (tmp_path / "pid").exists() or not (tmp_path / "pid").read_text().strip():
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, out + err
    child = int((tmp_path / "pid").read_text())
    try:
        os.kill(child, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive, "the step's process survived Ctrl-C"
    assert not (tmp_path / "never").exists()
    events = load(_journal(out)).events
    finished = [e for e in events if isinstance(e, ev.StepFinished)]
    assert [(f.step_id, f.status) for f in finished] == [("long", "cancelled")]
    last = events[-1]
    assert isinstance(last, ev.SessionFinished) and last.outcome == "aborted"
    assert any(isinstance(e, ev.OutputLine) and e.text == "started" for e in events)


def test_journal_lines_are_json_with_utc_times(tmp_path: Path) -> None:
    done = _run(tmp_path, "--yes")
    assert done.returncode == 0
    lines = _journal(done.stdout).read_text().splitlines()
    header = json.loads(lines[0])
    assert header["schema"] == ev.SCHEMA_VERSION and header["app"] == "runbook-tui"
    for line in lines[1:]:
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", json.loads(line)["at"])
