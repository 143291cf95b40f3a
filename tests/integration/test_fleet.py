"""Fleet steps against real sshd on three loopback hosts (web1..web3 = 127.0.0.2-4:2222).

Ansible really connects over SSH; a host is made to fail through ``$SSH_CONNECTION``,
which carries the address it was reached on.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.engine import Recorder, ScriptedAsker, runbook_from, write_runbook
from helpers.fleet import fail_on

from runbook_tui.core import events as ev
from runbook_tui.core.engine import Session
from runbook_tui.core.events import StepStatus
from runbook_tui.core.journal import Journal, load, new_session_id
from runbook_tui.core.journal.fold import fold
from runbook_tui.core.loader import load_runbook

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]


def _runbook(inventory: str, step: str, top: str = "") -> str:
    return f"""
runbook: 1
id: fleet
title: Fleet
inventory: {inventory}
{top}
parameters:
  - name: word
    pattern: '^[a-z ;]+$'
    default: hello
procedures:
  - id: main
    title: Main
    steps:
{step}
"""


def _shell_step(command: str, extra: str = "") -> str:
    body = "\n".join("          " + line for line in command.strip().splitlines())
    lines = [
        "      - id: restart",
        "        title: Restart api",
        "        kind: shell",
        "        targets: web",
    ]
    lines += ["        " + line for line in extra.strip().splitlines() if line.strip()]
    lines += ["        command: |", body]
    return "\n".join(lines)


def _run_cli(tmp_path: Path, runbook: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("run", str(runbook), "main", "--plain", "--yes", *args, cwd=tmp_path, timeout=150)


def _journal(stdout: str) -> Path:
    match = re.search(r"^journal: (.+\.jsonl)$", stdout, re.M)
    assert match, stdout
    return Path(match.group(1))


def _copy_inventory(tmp_path: Path, fleet_inventory: Path) -> str:
    """The inventory beside the runbook, named relatively (as a team keeps it in the repo)."""
    shutil.copy(fleet_inventory, tmp_path / "hosts.ini")
    return "hosts.ini"


def _hosts(events: list[ev.Event], cls: type[ev.Event]) -> list[ev.Event]:
    return [e for e in events if isinstance(e, cls)]


def test_targets_web_runs_on_all_three_hosts_and_records_each_result(
    tmp_path: Path, fleet_inventory: Path
) -> None:
    inventory = _copy_inventory(tmp_path, fleet_inventory)
    # $word comes through the task's environment; the server address proves which host ran it.
    command = 'echo "restarted on ${SSH_CONNECTION##* } ${SSH_CONNECTION% *} with $word"'
    # Jinja in a command or a value is text: Ansible must not template it on this machine.
    command += '\necho "jinja stays {{ 7 * 7 }} $TRICK"'
    # The value is on no command line while the command runs (ssh's here, sh's on the host).
    # (runbook-tui's own argv has it: this test passes it with --param.)
    command += '\nleak=$(ps -eo args | grep -F -- "$word" | grep -v -e grep -e runbook_tui || true)'
    command += '\n[[ -z "$leak" ]] || echo "LEAKED into ps: $leak"'
    extra = "forks: 3\ndestructive: true\nenv: {TRICK: '{{ 6 * 7 }}'}"
    path = write_runbook(tmp_path, _runbook(inventory, _shell_step(command, extra)))
    done = _run_cli(tmp_path, path, "--param", "word=calm; sea")
    assert done.returncode == 0, done.stdout + done.stderr
    events = load(_journal(done.stdout)).events
    # The hosts were resolved before the gate, and the gate named them.
    gate = next(e for e in events if isinstance(e, ev.ConfirmationGiven))
    assert "on 3 hosts (web1, web2, web3)" in gate.message
    finished = {e.host: e for e in _hosts(events, ev.HostFinished)}  # type: ignore[attr-defined]
    assert sorted(finished) == ["web1", "web2", "web3"]
    assert {e.status for e in finished.values()} == {"ok"}
    assert {e.rc for e in finished.values()} == {0}
    texts = [e.text for e in events if isinstance(e, ev.OutputLine)]
    for host, address in (("web1", "127.0.0.2"), ("web2", "127.0.0.3"), ("web3", "127.0.0.4")):
        line = next(t for t in texts if t.startswith(f"[{host}] restarted on"))
        assert address in line and "calm; sea" in line
    assert "[web3] jinja stays {{ 7 * 7 }} {{ 6 * 7 }}" in texts
    assert not [t for t in texts if "LEAKED" in t]
    assert sum("Ansible does not stream it" in t for t in texts) == 1
    state = fold(events)
    assert state.step("restart").status is StepStatus.PASSED
    assert {h: r.status for h, r in state.step("restart").hosts.items()} == dict.fromkeys(
        ("web1", "web2", "web3"), "ok"
    )


def test_serial_one_with_max_fail_zero_stops_after_the_first_failed_host_and_exits_1(
    tmp_path: Path, fleet_inventory: Path
) -> None:
    command = f'echo "on ${{SSH_CONNECTION##* }}"\nif {fail_on("web2")}; then echo broken >&2; exit 3; fi'
    step = _shell_step(command, "serial: 1\nmax_fail_percentage: 0")
    path = write_runbook(tmp_path, _runbook(str(fleet_inventory), step))
    done = _run_cli(tmp_path, path)
    assert done.returncode == 1, done.stdout + done.stderr
    events = load(_journal(done.stdout)).events
    started = [(e.host, e.batch) for e in _hosts(events, ev.HostStarted)]  # type: ignore[attr-defined]
    assert started == [("web1", 1), ("web2", 2)]  # web3 never ran: the threshold stopped the play
    results = {e.host: (e.status, e.rc) for e in _hosts(events, ev.HostFinished)}  # type: ignore[attr-defined]
    assert results == {"web1": ("ok", 0), "web2": ("failed", 3)}
    step_end = next(e for e in events if isinstance(e, ev.StepFinished))
    assert step_end.status == "failed"
    assert "web2 failed (rc 3)" in step_end.message and "not run: web3" in step_end.message
    assert any(isinstance(e, ev.OutputLine) and e.text == "[web2] broken" for e in events)

    report = run_cli("report", str(_journal(done.stdout)), check=True).stdout
    hosts_part = report.split("## Hosts", 1)[1].split("\n## ", 1)[0]
    assert "| web2 | 2 | failed |" in hosts_part
    assert "| web1 | 1 | ok |" in hosts_part
    assert "| web3 |  | not run |" in hosts_part
    assert hosts_part.index("web2") < hosts_part.index("web1")  # failed hosts first

    data = json.loads(run_cli("report", str(_journal(done.stdout)), "--format", "json", check=True).stdout)
    (fleet,) = data["hosts"]
    assert fleet["step_id"] == "restart" and fleet["pattern"] == "web"
    assert {h["host"]: h["status"] for h in fleet["hosts"]} == {
        "web1": "ok",
        "web2": "failed",
        "web3": "not run",
    }


def test_max_hosts_refuses_a_too_wide_pattern_before_anything_runs(
    tmp_path: Path, fleet_inventory: Path
) -> None:
    marker = tmp_path / "ran"
    step = _shell_step(f"touch {marker}-$RANDOM")
    path = write_runbook(tmp_path, _runbook(str(fleet_inventory), step, top="max_hosts: 2"))
    done = _run_cli(tmp_path, path)
    assert done.returncode == 1, done.stdout + done.stderr
    events = load(_journal(done.stdout)).events
    assert not _hosts(events, ev.HostStarted)
    assert not list(tmp_path.glob("ran-*"))
    step_end = next(e for e in events if isinstance(e, ev.StepFinished))
    assert "matches 3 hosts (web1, web2, web3) but max_hosts is 2" in step_end.message
    assert "nothing ran" in step_end.message


def test_a_step_may_raise_the_runbook_cap_and_inventory_option_wins(
    tmp_path: Path, fleet_inventory: Path
) -> None:
    step = _shell_step("true", "max_hosts: 3\nserial: [1, '50%']")
    # The runbook names an inventory that does not exist; --inventory replaces it.
    path = write_runbook(tmp_path, _runbook("missing.ini", step, top="max_hosts: 1"))
    done = _run_cli(tmp_path, path, "--inventory", str(fleet_inventory))
    assert done.returncode == 0, done.stdout + done.stderr
    events = load(_journal(done.stdout)).events
    assert [(e.host, e.batch) for e in _hosts(events, ev.HostStarted)] == [  # type: ignore[attr-defined]
        ("web1", 1),
        ("web2", 2),
        ("web3", 3),
    ]


async def test_a_retry_runs_only_the_failed_and_unfinished_hosts_and_says_so(
    tmp_path: Path, fleet_inventory: Path
) -> None:
    flag = tmp_path / "still-broken"
    flag.touch()
    command = f"if {fail_on('web2')} && [[ -e {flag} ]]; then exit 4; fi\necho fine"
    step = _shell_step(command, "serial: 1\nmax_fail_percentage: 0")
    runbook = runbook_from(tmp_path, _runbook(str(fleet_inventory), step))
    journal = Journal.create(new_session_id("fleet"), tmp_path)
    session = Session(runbook, "main", workdir=tmp_path, ask=ScriptedAsker(), journal=journal)
    seen = Recorder()
    session.subscribe(seen)
    await session.start()
    assert await session.run_step("restart") is StepStatus.FAILED
    first = [e.host for e in seen.of(ev.HostStarted)]  # type: ignore[attr-defined]
    assert first == ["web1", "web2"]
    flag.unlink()
    seen.events.clear()
    assert await session.run_step("restart") is StepStatus.PASSED
    again = [e.host for e in seen.of(ev.HostStarted)]  # type: ignore[attr-defined]
    assert again == ["web2", "web3"]
    said = [e.text for e in seen.output("restart") if e.stream == "info"]
    assert any("running again on web2, web3 only; already done earlier: web1" in t for t in said)
    hosts = session.state.step("restart").hosts
    assert {h: (r.status, r.attempt) for h, r in hosts.items()} == {
        "web1": ("ok", 1),
        "web2": ("ok", 2),
        "web3": ("ok", 2),
    }
    # Running a step that passed again is a new run everywhere, not a no-op.
    seen.events.clear()
    assert await session.run_step("restart") is StepStatus.PASSED
    assert [e.host for e in seen.of(ev.HostStarted)] == ["web1", "web2", "web3"]  # type: ignore[attr-defined]
    await session.finish()


async def test_resume_after_a_crash_runs_only_the_hosts_without_a_result(
    tmp_path: Path, fleet_inventory: Path
) -> None:
    step = _shell_step('echo "on ${SSH_CONNECTION##* }"', "serial: 1")
    path = write_runbook(tmp_path, _runbook(str(fleet_inventory), step))
    done = _run_cli(tmp_path, path)
    assert done.returncode == 0, done.stdout + done.stderr
    whole = _journal(done.stdout)
    # A crash right after web1 finished: the journal ends there (what a killed process leaves).
    lines = whole.read_text().splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines) if '"host_finished"' in line and '"web1"' in line)
    crashed = whole.with_name("crashed.jsonl")
    crashed.write_text("".join(lines[: cut + 1]))
    session = Session.resume(crashed, load_runbook(path), ScriptedAsker(), workdir=tmp_path)
    seen = Recorder()
    session.subscribe(seen)
    assert session.state.step("restart").status is StepStatus.INTERRUPTED
    assert await session.run_all() is True
    assert [e.host for e in seen.of(ev.HostStarted)] == ["web2", "web3"]  # type: ignore[attr-defined]
    await session.finish()
    state = fold(load(crashed).events)
    assert {h: r.status for h, r in state.step("restart").hosts.items()} == dict.fromkeys(
        ("web1", "web2", "web3"), "ok"
    )
    info = [e.text for e in load(crashed).events if isinstance(e, ev.OutputLine) and e.stream == "info"]
    assert any("running again on web2, web3 only" in t for t in info)


def test_the_ansible_kind_runs_a_playbook_file_on_the_pattern(tmp_path: Path, fleet_inventory: Path) -> None:
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "ping.yml").write_text(
        "- hosts: all\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        "    - ansible.builtin.command: echo first\n"
        "    - ansible.builtin.shell: echo second from $SSH_CONNECTION\n"
    )
    step = """      - id: ping
        title: Ping the web hosts
        kind: ansible
        playbook: playbooks/ping.yml
        targets: "web:!web3"
        forks: 2"""
    path = write_runbook(tmp_path, _runbook(str(fleet_inventory), step))
    done = _run_cli(tmp_path, path)
    assert done.returncode == 0, done.stdout + done.stderr
    events = load(_journal(done.stdout)).events
    results = {e.host: e.status for e in _hosts(events, ev.HostFinished)}  # type: ignore[attr-defined]
    assert results == {"web1": "ok", "web2": "ok"}
    texts = [e.text for e in events if isinstance(e, ev.OutputLine)]
    assert "[web1] first" in texts
    assert any(t.startswith("[web2] second from ") and t.endswith(" 127.0.0.3 2222") for t in texts)


async def test_cancel_stops_a_running_fleet_step_here_and_on_the_hosts(
    tmp_path: Path, fleet_inventory: Path
) -> None:
    nap = f"sleep 60.{os.getpid() % 1000:03d}{len(str(tmp_path)) % 10}"  # findable in ps
    step = _shell_step(nap)
    runbook = runbook_from(tmp_path, _runbook(str(fleet_inventory), step))
    session = Session(runbook, "main", workdir=tmp_path, ask=ScriptedAsker())
    started = asyncio.Event()
    session.subscribe(lambda e: started.set() if isinstance(e, ev.HostStarted) else None)
    await session.start()
    task = session.run_in_background("restart")
    await started.wait()
    assert session.cancel("restart")
    assert await task is StepStatus.CANCELLED
    await session.finish()
    # The remote commands were stopped too, not left running behind the closed connection.
    for _ in range(50):
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
        if nap not in ps:
            break
        await asyncio.sleep(0.1)
    assert nap not in ps


def _gone(text: str) -> bool:
    """True once no process shows ``text`` in its argv (polled: the kill is asynchronous)."""
    for _ in range(50):
        ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
        if text not in ps:
            return True
        time.sleep(0.1)
    return False


def test_a_fleet_step_that_times_out_fails_and_stops_the_command_on_the_hosts(
    tmp_path: Path, fleet_inventory: Path
) -> None:
    nap = f"sleep 70.{os.getpid() % 1000:03d}{len(str(tmp_path)) % 10}"
    path = write_runbook(tmp_path, _runbook(str(fleet_inventory), _shell_step(nap, "timeout: 3s")))
    done = _run_cli(tmp_path, path)
    assert done.returncode == 1, done.stdout + done.stderr
    events = load(_journal(done.stdout)).events
    step_end = next(e for e in events if isinstance(e, ev.StepFinished))
    assert step_end.message == "timed out after 3s"
    results = {e.host: (e.status, e.message) for e in _hosts(events, ev.HostFinished)}  # type: ignore[attr-defined]
    assert results == dict.fromkeys(("web1", "web2", "web3"), ("failed", "timed out after 3s"))
    assert _gone(nap)
