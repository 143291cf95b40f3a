"""Secrets stay secret: never in argv, the journal, a report, an error or the app; three ways in.

Real ``runbook-tui run --plain`` subprocesses, real files with real modes, real ``ps``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from helpers.cli import cli_argv, run_cli
from helpers.engine import Recorder, ScriptedAsker, runbook_from, write_runbook

from runbook_tui.core.engine import Session
from runbook_tui.core.errors import ParameterError
from runbook_tui.core.journal import Journal, new_session_id
from runbook_tui.core.loader import try_load
from runbook_tui.core.model import Parameter
from runbook_tui.core.params import Redactor, validate

TOKEN = "s3cr3t_Tok3n_0042"  # matches the pattern below
BAD = "not-a-valid token!"  # a secret that fails it: must never be shown either

RUNBOOK = """
runbook: 1
id: sec
title: Secrets
parameters:
  - name: token
    secret: true
    pattern: '^[A-Za-z0-9_]{8,64}$'
  - name: tag
    default: v1
procedures:
  - id: main
    title: Main
    steps:
      - id: use
        title: Use the token
        kind: shell
        command: |
          printf '%s\\n' "got {{token}}"
          printf '%s' "{{token}}" | base64
          {sleep}
"""


def _run(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, sleep: str = "true"
) -> subprocess.CompletedProcess[str]:
    path = write_runbook(tmp_path, RUNBOOK.replace("{sleep}", sleep))
    return run_cli("run", str(path), "main", "--plain", "--yes", "--workdir", str(tmp_path), *args, env=env)


def _journal(stdout: str) -> Path:
    match = re.search(r"^journal: (.+\.jsonl)$", stdout, re.M)
    assert match, stdout
    return Path(match.group(1))


def _reports(journal: Path) -> str:
    out = []
    for fmt in ("markdown", "json", "svg"):
        done = run_cli("report", journal.stem, "--format", fmt)
        assert done.returncode == 0, done.stderr
        out.append(done.stdout)
    return "\n".join(out)


def _no_trace_of(secret: str, text: str) -> None:
    for form in (secret, base64.b64encode(secret.encode()).decode().rstrip("=")):
        assert form not in text


def test_a_secret_on_the_command_line_is_refused_naming_the_three_ways_in(tmp_path: Path) -> None:
    done = _run(tmp_path, "--param", f"token={TOKEN}")
    assert done.returncode == 2
    assert TOKEN not in done.stderr + done.stdout
    assert "--param-file" in done.stderr and "RUNBOOK_TUI_PARAM_token" in done.stderr
    assert "prompt" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_secret_from_the_environment_is_used_and_never_written(tmp_path: Path) -> None:
    done = _run(tmp_path, env={"RUNBOOK_TUI_PARAM_token": TOKEN})
    assert done.returncode == 0, done.stdout + done.stderr
    journal = _journal(done.stdout)
    raw = journal.read_text()
    _no_trace_of(TOKEN, raw)
    _no_trace_of(TOKEN, done.stdout)
    assert "got ••••••" in raw
    records = [json.loads(line) for line in raw.splitlines()]
    set_ = next(r for r in records if r.get("kind") == "parameter_set" and r["name"] == "token")
    assert set_["secret"] is True and set_["source"] == "environment"
    _no_trace_of(TOKEN, _reports(journal))


def test_a_param_file_must_be_private(tmp_path: Path) -> None:
    values = tmp_path / "values"
    values.write_text(f"# the token\n\ntoken={TOKEN}\ntag=v2\n")
    values.chmod(0o644)
    done = _run(tmp_path, "--param-file", str(values))
    assert done.returncode == 2
    assert "chmod 600" in done.stderr and str(values) in done.stderr
    assert TOKEN not in done.stderr
    values.chmod(0o600)
    done = _run(tmp_path, "--param-file", str(values))
    assert done.returncode == 0, done.stdout + done.stderr
    raw = _journal(done.stdout).read_text()
    _no_trace_of(TOKEN, raw)
    assert '"name": "tag", "value": "v2"' in raw.replace('":"', '": "').replace('","', '", "')


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("tag=v2\nnonsense line\n", ":2: is not NAME=VALUE"),
        ("tag=v2\nnope=1\n", ":2: parameter 'nope': is not declared by runbook 'sec'"),
        (f"token={BAD}\n", ":1: parameter 'token': its value does not match"),
        ("tag=caf\xe9\n".encode("latin-1"), ":1: is not valid UTF-8"),
        ("tag=a\x1b]0;pwned\x07\n", ":1: parameter 'tag': contains a control character (U+001B"),
    ],
)
def test_param_file_errors_name_file_and_line(tmp_path: Path, content: str | bytes, expected: str) -> None:
    values = tmp_path / "values"
    values.write_bytes(content if isinstance(content, bytes) else content.encode())
    values.chmod(0o600)
    done = _run(tmp_path, "--param-file", str(values))
    assert done.returncode == 2
    assert f"{values}{expected}" in done.stderr, done.stderr
    assert BAD not in done.stderr


def test_a_secret_that_fails_its_pattern_is_never_shown(tmp_path: Path) -> None:
    done = _run(tmp_path, env={"RUNBOOK_TUI_PARAM_token": BAD})
    assert done.returncode == 2
    assert BAD not in done.stderr + done.stdout
    assert "does not match ^[A-Za-z0-9_]{8,64}$" in done.stderr


def test_a_secret_that_fails_at_the_prompt_is_never_journalled_or_reported(tmp_path: Path) -> None:
    runbook = runbook_from(tmp_path, RUNBOOK.replace("{sleep}", "true"))
    journal = Journal.create(new_session_id(runbook.id))
    asker = ScriptedAsker(params={"token": BAD})
    session = Session(runbook, "main", workdir=tmp_path, ask=asker, journal=journal)
    recorder = Recorder()
    session.subscribe(recorder)

    async def go() -> None:
        await session.start()
        await session.run_all()
        await session.finish()

    asyncio.run(go())
    finished = [e for e in recorder.events if e.kind == "step_finished"]
    assert finished and "does not match" in finished[0].message  # type: ignore[attr-defined]
    raw = journal.path.read_text()
    assert BAD not in raw
    assert BAD not in _reports(journal.path)


def test_validation_errors_name_the_rule_not_the_secret() -> None:
    secret = Parameter("token", secret=True, pattern="^x+$", choices=("xx", "xxx"))
    for value in ("yy", "xxxx"):
        with pytest.raises(ParameterError) as caught:
            validate(secret, value)
        assert value not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("caf\udce9", "not valid UTF-8"),  # argv bytes b"caf\xe9" under surrogateescape
        ("v1\rrm", "control character (U+000D"),
        ("a\x1b[2J", "control character (U+001B"),
        ("a\tb", "control character (U+0009"),
        ("a\x7f", "control character (U+007F"),
        ("a\x9bb", "control character (U+009B"),
        ("abc\u202edcb", "bidirectional control (U+202E"),
        ("a\u2066b", "bidirectional control (U+2066"),
        ("a\u200fb", "bidirectional control (U+200F"),
        ("a\u061cb", "bidirectional control (U+061C"),
        ("a\u200bb", "zero-width character (U+200B"),
        ("\ufeffa", "zero-width character (U+FEFF"),
        ("a\u2060b", "zero-width character (U+2060"),
    ],
)
def test_values_are_plain_text(value: str, why: str) -> None:
    with pytest.raises(ParameterError) as caught:
        validate(Parameter("tag"), value)
    assert why in str(caught.value)


def test_plain_unicode_values_pass() -> None:
    assert validate(Parameter("who"), "Zoë Ångström 東京 ✓") == "Zoë Ångström 東京 ✓"


def test_a_non_utf8_command_line_value_is_refused(tmp_path: Path) -> None:
    path = write_runbook(tmp_path, RUNBOOK.replace("{sleep}", "true"))
    done = subprocess.run(
        [
            sys.executable.encode(),
            b"-m",
            b"runbook_tui",
            b"run",
            str(path).encode(),
            b"main",
            b"--plain",
            b"--yes",
            b"--param",
            b"tag=caf\xe9",
            b"--workdir",
            str(tmp_path).encode(),
        ],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "RUNBOOK_TUI_PARAM_token": TOKEN},
        timeout=60,
    )
    assert done.returncode == 2
    assert b"not valid UTF-8" in done.stderr


@pytest.mark.parametrize("secret", [TOKEN, "p@ss w/rd\"x'y+=&%", "Zoë:pässwörd"])
def test_redactor_catches_common_encodings(secret: str) -> None:
    redact = Redactor([secret])
    raw = secret.encode()
    forms = [
        secret,
        shlex.quote(secret),
        json.dumps(secret),
        json.dumps(secret, ensure_ascii=False),
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
    ]
    for prefix in ("u:", "admin:", "ops:", "Bearer "):
        forms.append(base64.b64encode(prefix.encode() + raw).decode())
        forms.append(base64.b64encode(prefix.encode() + raw + b":tail").decode())
    for form in forms:
        shown = redact(f"header: {form} end")
        assert "••••••" in shown, form
        # What is left around the mark is never the secret's readable middle.
        assert secret not in shown and secret[2:-2] not in shown


def test_redactor_leaves_ordinary_text_alone() -> None:
    redact = Redactor([TOKEN])
    text = "deploy v1.2.3 to prod; AAAA==; ok"
    assert redact(text) is text


def test_step_output_with_an_encoded_secret_is_redacted_in_the_journal(tmp_path: Path) -> None:
    done = _run(tmp_path, env={"RUNBOOK_TUI_PARAM_token": TOKEN})
    raw = _journal(done.stdout).read_text()
    assert base64.b64encode(TOKEN.encode()).decode() not in raw


def test_a_secret_as_a_program_argument_warns_at_load(tmp_path: Path) -> None:
    path = write_runbook(
        tmp_path,
        """
        runbook: 1
        id: curl
        title: Curl
        parameters:
          - name: token
            secret: true
        procedures:
          - id: main
            title: Main
            steps:
              - id: call
                title: Call
                kind: shell
                command: |
                  printf '%s' "{{token}}" > /dev/null
                  TOKEN={{token}} ./deploy
                  curl -H "Authorization: Bearer {{token}}" http://127.0.0.1:9/
        """,
    )
    result = try_load(path)
    assert result.runbook is not None  # a warning, not an error
    warnings = [p for p in result.problems if p.severity == "warning"]
    assert len(warnings) == 1
    assert "curl" in warnings[0].message and "-H @file" in warnings[0].message
    done = run_cli("validate", str(path))
    assert "curl" in done.stdout + done.stderr
    ran = run_cli(
        "run",
        str(path),
        "main",
        "--plain",
        "--yes",
        "--workdir",
        str(tmp_path),
        env={"RUNBOOK_TUI_PARAM_token": TOKEN, "PATH": "/usr/bin:/bin"},
    )
    assert "warning: step 'call' passes the secret parameter token as an argument of curl" in ran.stderr


def test_resume_asks_for_a_secret_again(tmp_path: Path) -> None:
    runbook = runbook_from(
        tmp_path,
        """
        runbook: 1
        id: res
        title: Resume
        parameters:
          - name: token
            secret: true
        procedures:
          - id: main
            title: Main
            steps:
              - id: one
                title: One
                kind: shell
                command: printf '%s\\n' "{{token}}" > one.txt
              - id: two
                title: Two
                kind: shell
                command: printf '%s\\n' "{{token}}" > two.txt
        """,
    )
    journal = Journal.create(new_session_id(runbook.id))
    first = ScriptedAsker(params={"token": TOKEN})
    session = Session(runbook, "main", workdir=tmp_path, ask=first, journal=journal)

    async def part_one() -> None:
        await session.start()
        await session.run_step("one")
        session.close()

    asyncio.run(part_one())
    assert TOKEN not in journal.path.read_text()
    again = ScriptedAsker(params={"token": "another_value_1"})
    resumed = Session.resume(journal.path, runbook, again, workdir=tmp_path)

    async def part_two() -> None:
        await resumed.start()
        await resumed.run_all()
        await resumed.finish()

    asyncio.run(part_two())
    assert [name for name, _ in again.asked] == ["token"]
    assert (tmp_path / "two.txt").read_text() == "another_value_1\n"
    assert "another_value_1" not in journal.path.read_text()


def test_resume_takes_a_secret_from_the_environment(tmp_path: Path) -> None:
    path = write_runbook(tmp_path, RUNBOOK.replace("{sleep}", "exit 3"))
    env = {**os.environ, "RUNBOOK_TUI_PARAM_token": TOKEN}
    first = subprocess.run(
        cli_argv("run", str(path), "main", "--plain", "--yes", "--workdir", str(tmp_path)),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=60,
    )
    assert first.returncode == 1
    journal = _journal(first.stdout)
    # Unfinished: cut the session_finished line so it can be resumed.
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(line for line in lines if '"session_finished"' not in line))
    path.write_text(path.read_text().replace("exit 3", "true"))
    done = subprocess.run(
        cli_argv("resume", journal.stem, "--plain", "--yes"),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=60,
    )
    raw = journal.read_text()
    _no_trace_of(TOKEN, raw + done.stdout + done.stderr)
    assert '"source": "environment"' in raw.replace('":"', '": "')


def test_ps_never_shows_a_secret_while_a_step_runs(tmp_path: Path) -> None:
    """Needs the parameters-as-environment change (branch ``params``) as well as this one.

    The step's shell stays alive (``; true`` after the sleep stops bash from exec-ing
    the last command), so its own argv is in ``ps`` too.
    """
    marker = tmp_path / "running"
    path = write_runbook(tmp_path, RUNBOOK.replace("{sleep}", f"touch {marker}; sleep 3; true"))
    proc = subprocess.Popen(
        cli_argv("run", str(path), "main", "--plain", "--yes", "--workdir", str(tmp_path)),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "RUNBOOK_TUI_PARAM_token": TOKEN},
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        seen = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
        assert "sleep 3" in seen
        assert TOKEN not in seen
    finally:
        proc.communicate(timeout=60)


async def test_the_app_form_never_shows_a_failing_secret_and_refuses_control_text() -> None:
    from textual.app import App
    from textual.widgets import Static

    from runbook_tui.ui.screens.parameter import ParameterModal

    host: App[None] = App()
    results: list[str | None] = []
    secret = Parameter("token", secret=True, pattern="^[a-z]{8,}$")
    async with host.run_test(size=(100, 24)) as pilot:
        host.push_screen(ParameterModal(secret), results.append)
        await pilot.pause()
        await pilot.press(*"WRONGvalue9", "enter")
        await pilot.pause()
        shown = " ".join(str(s.render()) for s in host.screen.query(Static))
        assert "does not match ^[a-z]{8,}$" in shown
        assert "WRONGvalue9" not in shown
        assert results == []
        host.pop_screen()
        host.push_screen(ParameterModal(Parameter("tag")), results.append)
        await pilot.pause()
        host.screen.query_one("Input").value = "v1\u202e2"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await pilot.pause()
        error = str(host.screen.query_one("#modal-error", Static).render())
        assert "bidirectional control (U+202E" in error
        assert results == []


def test_open_and_resume_take_param_file_and_refuse_a_loose_one(tmp_path: Path) -> None:
    path = write_runbook(tmp_path, RUNBOOK.replace("{sleep}", "true"))
    values = tmp_path / "values"
    values.write_text(f"token={TOKEN}\n")
    values.chmod(0o640)
    for command in (["open", str(path), "main"], ["run", str(path), "main"], ["resume", "--plain"]):
        done = run_cli(*command, "--param-file", str(values))
        assert done.returncode == 2, (command, done.stderr)
        assert TOKEN not in done.stderr + done.stdout
        if command[0] != "resume":  # resume first says there is no session to resume
            assert "chmod 600" in done.stderr, done.stderr


async def test_the_app_uses_values_given_up_front_and_never_shows_the_secret(tmp_path: Path) -> None:
    from helpers.ui import run_screen, until

    from runbook_tui.core.loader import load_runbook
    from runbook_tui.core.param_sources import gather
    from runbook_tui.ui.app import AppOptions, RunbookApp
    from runbook_tui.ui.screens.parameter import ParameterModal

    path = write_runbook(tmp_path, RUNBOOK.replace("{sleep}", "printf '%s' \"{{token}}\" > used.txt"))
    runbook = load_runbook(path)
    given = gather(runbook, [], None, {"RUNBOOK_TUI_PARAM_token": TOKEN})
    app = RunbookApp(
        AppOptions(
            runbook=runbook,
            procedure="main",
            workdir=tmp_path,
            probe_signals=False,
            find_entries=lambda dirs: [],
            params=given.values,
            param_sources=given.sources,
        )
    )
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await run_screen(pilot)
        await pilot.press("a")
        await until(pilot, lambda: screen.state.step("use").status.is_final)
        assert not isinstance(app.screen, ParameterModal)
        assert screen.state.step("use").status.value == "passed"
        journal = screen.session.journal_path
    assert (tmp_path / "used.txt").read_text() == TOKEN
    _no_trace_of(TOKEN, Path(journal).read_text())
