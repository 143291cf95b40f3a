"""Pre-flight: missing programs and unset variables are listed before the first step runs."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from helpers.cli import cli_argv
from helpers.engine import runbook_from, write_runbook

from runbook_tui.core.preflight import check

ENV = {"PATH": "/usr/bin:/bin", "HOME": "/root", "SET_VAR": "1"}


def _findings(tmp_path: Path, command: str, *, env: dict[str, str] | None = None) -> list[tuple[str, str]]:
    text = f"""
    runbook: 1
    id: pf
    title: Pre-flight
    parameters:
      - name: tag
    procedures:
      - id: main
        title: Main
        steps:
          - id: a
            title: A
            kind: shell
            env:
              STEP_VAR: x
            command: {json.dumps(command)}
    """
    runbook = runbook_from(tmp_path, text)
    found = check(runbook, runbook.procedures[0], env=env or ENV, workdir=tmp_path)
    return [(f.kind, f.name) for f in found]


def test_a_missing_program_is_listed(tmp_path: Path) -> None:
    assert _findings(tmp_path, "no-such-tool-xyz --version && echo ok") == [("program", "no-such-tool-xyz")]


def test_builtins_functions_and_programs_on_path_are_fine(tmp_path: Path) -> None:
    command = "deploy() { echo hi; }; deploy; cd /; read -r line < /dev/null || true; ls | head -1"
    assert _findings(tmp_path, command) == []


def test_a_relative_script_is_looked_up_in_the_workdir(tmp_path: Path) -> None:
    assert _findings(tmp_path, "./scripts/x.sh") == [("program", "./scripts/x.sh")]
    script = tmp_path / "scripts" / "x.sh"
    script.parent.mkdir()
    script.write_text("#!/bin/sh\n")
    assert _findings(tmp_path, "./scripts/x.sh") == [("program", "./scripts/x.sh")]  # not executable
    script.chmod(0o755)
    assert _findings(tmp_path, "./scripts/x.sh") == []


def test_the_markdown_namespace_case_is_caught(tmp_path: Path) -> None:
    assert _findings(tmp_path, "echo kubectl -n ${NAMESPACE} get pods") == [("variable", "NAMESPACE")]


@pytest.mark.parametrize(
    "command",
    [
        "awk '{print $1}' /dev/null",
        "for x in a b; do echo $x; done",
        "read x < /dev/null; echo $x",
        "echo ${x:-default} ${y-} ${z:+alt}",
        "echo $SET_VAR $STEP_VAR $tag {{tag}} $HOME $PWD $RANDOM $1 $@ $?",
        "x=1; echo $x ${x}",
        'local_thing=$(date); echo "$local_thing"',
        "cat <<'EOF'\n$NOT_EXPANDED\nEOF",
        "echo '$NOT_EXPANDED'",
        "# a comment with $NOTHING",
    ],
)
def test_what_does_not_count_as_unset(tmp_path: Path, command: str) -> None:
    assert _findings(tmp_path, command) == []


def test_an_unquoted_heredoc_and_double_quotes_do_count(tmp_path: Path) -> None:
    command = 'cat <<EOF\n$IN_HEREDOC\nEOF\necho "$IN_QUOTES"'
    assert _findings(tmp_path, command) == [("variable", "IN_HEREDOC"), ("variable", "IN_QUOTES")]


# --- run --plain: exit 2 with the list unless --accept-preflight -----------------------------

RUNBOOK = """
runbook: 1
id: plainpf
title: Plain pre-flight
procedures:
  - id: main
    title: Main
    steps:
      - id: a
        title: A
        kind: shell
        command: "echo ns=${NAMESPACE_XYZ}; touch ran"
"""


def _run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    path = write_runbook(tmp_path, RUNBOOK)
    env = {k: v for k, v in os.environ.items() if k != "NAMESPACE_XYZ"}
    return subprocess.run(
        cli_argv("run", str(path), "main", "--plain", "--workdir", str(tmp_path), *list(args)),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        env=env,
    )


def test_plain_exits_2_with_the_list_and_runs_nothing(tmp_path: Path) -> None:
    done = _run(tmp_path, "--yes")  # --yes answers gates; it does not accept the pre-flight
    assert done.returncode == 2, done.stdout + done.stderr
    assert "$NAMESPACE_XYZ is not set" in done.stderr
    assert "--accept-preflight" in done.stderr
    assert not (tmp_path / "ran").exists()


def test_accept_preflight_runs_and_journals_it(tmp_path: Path) -> None:
    done = _run(tmp_path, "--accept-preflight")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "ran").exists()
    journal = Path(next(line for line in done.stdout.splitlines() if line.startswith("journal: "))[9:])
    records = [json.loads(line) for line in journal.read_text().splitlines()[1:]]
    kinds = [r["kind"] for r in records]
    assert kinds.index("preflight") < kinds.index("step_started")
    event = next(r for r in records if r["kind"] == "preflight")
    assert event["accepted"] is True and event["by"] == "--accept-preflight"
    assert "NAMESPACE_XYZ" in event["findings"][0]


def test_a_fleet_step_is_checked_on_its_hosts_not_here(tmp_path: Path) -> None:
    text = """
    runbook: 1
    id: pf
    title: Pre-flight
    procedures:
      - id: main
        title: Main
        steps:
          - id: remote
            title: On the web hosts
            kind: shell
            targets: web
            command: "echo $SSH_CONNECTION; host-only-tool --restart"
          - id: local
            title: Here
            kind: shell
            command: "echo $SSH_CONNECTION"
    """
    runbook = runbook_from(tmp_path, text)
    found = check(runbook, runbook.procedures[0], env=ENV, workdir=tmp_path)
    assert [(f.step_id, f.kind, f.name) for f in found] == [("local", "variable", "SSH_CONNECTION")]
