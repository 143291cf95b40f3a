"""Fleet steps without ssh: the runbook keys, batches, the cap, the events and their fold."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.engine import write_runbook

from runbook_tui.core import events as ev
from runbook_tui.core import fleet
from runbook_tui.core.journal.fold import fold
from runbook_tui.core.loader import load_runbook, try_load
from runbook_tui.core.model import FleetSpec, StepKind

RUNBOOK = """
runbook: 1
id: fleet
title: Fleet
inventory: inventory/hosts.ini
max_hosts: 5
procedures:
  - id: main
    title: Main
    steps:
{steps}
"""


def _problems(tmp_path: Path, steps: str) -> list[str]:
    path = write_runbook(tmp_path, RUNBOOK.format(steps=steps))
    return [f"{p.location.line}: {p.message}" for p in try_load(path).problems]


def test_the_fleet_keys_load_with_the_runbook_defaults(tmp_path: Path) -> None:
    steps = """      - id: a
        title: A
        kind: shell
        targets: "web:!web3"
        serial: [1, "30%"]
        max_fail_percentage: 10
        become: true
        forks: 4
        command: systemctl restart api
      - id: b
        title: B
        kind: ansible
        playbook: playbooks/site.yml
        targets: db
        max_hosts: 50
      - id: c
        title: C
        kind: shell
        command: echo here"""
    runbook = load_runbook(write_runbook(tmp_path, RUNBOOK.format(steps=steps)))
    assert runbook.inventory == str((tmp_path / "inventory" / "hosts.ini").resolve())
    assert runbook.max_hosts == 5
    a, b, c = runbook.procedures[0].steps
    assert a.fleet == FleetSpec(
        targets="web:!web3",
        serial=("1", "30%"),
        max_fail_percentage=10.0,
        become=True,
        forks=4,
        max_hosts=5,
        inventory=runbook.inventory,
    )
    assert b.kind is StepKind.ANSIBLE and b.fleet is not None and b.fleet.max_hosts == 50
    assert b.spec.playbook == str((tmp_path / "playbooks" / "site.yml").resolve())  # type: ignore[union-attr]
    assert c.fleet is None


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ("serial: 0", "'serial' of shell step 'a' takes batch sizes like 1, 3 or '30%'"),
        ("serial: [1, many]", "'serial' of shell step 'a' takes batch sizes"),
        (
            "max_fail_percentage: 150",
            "'max_fail_percentage' of shell step 'a' must be a number from 0 to 100",
        ),
        ("forks: 0", "'forks' of shell step 'a' must be 1 or more"),
        ("max_hosts: 0", "'max_hosts' of shell step 'a' must be 1 or more"),
        ("targets: ''", "'targets' of shell step 'a' is empty"),
    ],
)
def test_bad_fleet_keys_are_located_problems(tmp_path: Path, keys: str, expected: str) -> None:
    if not keys.startswith("targets"):
        keys = "targets: web\n        " + keys
    steps = f"""      - id: a
        title: A
        kind: shell
        {keys}
        command: "true\""""
    problems = _problems(tmp_path, steps)
    assert any(expected in p for p in problems), problems


def test_fleet_keys_belong_to_shell_and_ansible_steps_only(tmp_path: Path) -> None:
    steps = """      - id: a
        title: A
        kind: http
        url: http://127.0.0.1:1/
        targets: web"""
    problems = _problems(tmp_path, steps)
    assert any("unknown key 'targets'" in p and "shell and ansible steps" in p for p in problems), problems


def test_an_ansible_step_needs_a_playbook_and_targets_and_refuses_play_keywords(tmp_path: Path) -> None:
    steps = """      - id: a
        title: A
        kind: ansible
        serial: 1"""
    problems = _problems(tmp_path, steps)
    assert any("is missing 'playbook'" in p for p in problems), problems
    assert any("is missing 'targets'" in p for p in problems), problems
    steps = """      - id: a
        title: A
        kind: ansible
        playbook: site.yml
        targets: web
        serial: 1"""
    problems = _problems(tmp_path, steps)
    assert any("'serial' of ansible step 'a' is a play keyword" in p for p in problems), problems


@pytest.mark.parametrize(
    ("count", "serial", "expected"),
    [
        (3, (), [3]),
        (3, ("1",), [1, 1, 1]),
        (10, ("1", "30%"), [1, 3, 3, 3]),
        (5, ("10%",), [1, 1, 1, 1, 1]),  # Ansible's pct_to_int never goes below 1
        (7, ("2", "5"), [2, 5]),
    ],
)
def test_batches_are_cut_as_ansible_cuts_them(
    count: int, serial: tuple[str, ...], expected: list[int]
) -> None:
    hosts = [f"h{i}" for i in range(count)]
    cut = fleet.batches(hosts, serial)
    assert [len(b) for b in cut] == expected
    assert [h for b in cut for h in b] == hosts


def test_the_cap_names_the_count_and_the_hosts() -> None:
    spec = FleetSpec(targets="web", max_hosts=2)
    with pytest.raises(
        fleet.FleetError, match=r"matches 3 hosts \(a, b, c\) but max_hosts is 2; nothing ran"
    ):
        fleet.check_cap(spec, ["a", "b", "c"])
    with pytest.raises(fleet.FleetError, match="matches no host"):
        fleet.check_cap(spec, [])
    fleet.check_cap(spec, ["a", "b"])


def test_no_inventory_and_a_missing_one_say_what_to_do(tmp_path: Path) -> None:
    spec = FleetSpec(targets="web")
    with pytest.raises(fleet.FleetError, match="add 'inventory: FILE' to the runbook, pass --inventory"):
        fleet.inventory_for(spec, {})
    with pytest.raises(fleet.FleetError, match="does not exist"):
        fleet.inventory_for(spec, {"RUNBOOK_TUI_INVENTORY": str(tmp_path / "nope.ini")})
    (tmp_path / "a.ini").write_text("[web]\nh1\n")
    (tmp_path / "b.ini").write_text("[web]\nh2\n")
    with_file = FleetSpec(targets="web", inventory=str(tmp_path / "a.ini"))
    assert fleet.inventory_for(with_file, {}) == str(tmp_path / "a.ini")
    assert fleet.inventory_for(with_file, {"RUNBOOK_TUI_INVENTORY": str(tmp_path / "b.ini")}) == str(
        tmp_path / "b.ini"
    )


def test_patterns_resolve_with_ansibles_own_inventory_code(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        "all:\n  children:\n    web:\n      hosts: {w1: {}, w2: {}, w3: {}}\n    db:\n      hosts: {d1: {}}\n"
    )
    assert fleet.resolve_hosts(str(inventory), "web:!w2") == ["w1", "w3"]
    assert fleet.resolve_hosts(str(inventory), "all") == ["w1", "w2", "w3", "d1"]


def test_without_ansible_executables_the_step_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python3"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(fleet.FleetError, match=r"no ansible-playbook next to .*python3 nor on PATH"):
        fleet.ansible_bin_dir()


def test_the_generated_play_is_fail_closed_and_carries_parameters_in_its_environment(tmp_path: Path) -> None:
    steps = """      - id: a
        title: A
        kind: shell
        targets: web
        serial: [1, "50%"]
        max_fail_percentage: 0
        become: true
        cwd: /srv/api
        env: {MODE: fast}
        command: systemctl restart api"""
    step = load_runbook(write_runbook(tmp_path, RUNBOOK.format(steps=steps))).procedures[0].steps[0]
    assert step.fleet is not None
    (play,) = fleet.shell_play(
        step, step.fleet, fleet.task_environment({"MODE": "fast"}, {"tag": "v1"}), "m1"
    )
    assert play["hosts"] == "web" and play["serial"] == [1, "50%"]
    assert play["max_fail_percentage"] == 0 and play["become"] is True
    # Values never go into Ansible's environment: it puts NAME=value on the ssh command line.
    assert play["environment"] == {"RUNBOOK_TUI_RUN": "m1"}
    shell = play["tasks"][0]["ansible.builtin.shell"]
    assert shell["executable"] == "/bin/bash" and shell["chdir"] == "/srv/api"
    assert (
        shell["cmd"]
        == fleet.ENV_PRELUDE + "set -eEo pipefail\nshopt -s inherit_errexit\nsystemctl restart api"
    )
    assert shell["stdin"] == "tag djE=\nMODE ZmFzdA=="
    assert "v1" not in fleet.dump_playbook([play]).replace("djE", "")


def test_the_env_prelude_exports_every_value_exactly(tmp_path: Path) -> None:
    values = {"A": 'it\'s "quoted" $HOME `x`', "B": "two\nlines\n\n", "C": "", "D": "ünï"}
    script = fleet.ENV_PRELUDE + 'for n in A B C D; do printf "%s=[%s]\\0" "$n" "${!n}"; done'
    done = subprocess.run(
        ["bash", "-c", script],
        input=fleet.env_stdin(values) + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    got = dict(item.split("=", 1) for item in done.stdout.split("\0") if item)
    assert got == {k: f"[{v}]" for k, v in values.items()}


def test_host_events_round_trip_and_fold_per_host_across_attempts() -> None:
    events: list[ev.Event] = [
        ev.StepStarted(step_id="s", title="S", step_kind="shell", phase="step", at=1.0),
        ev.HostStarted(step_id="s", host="web1", batch=1, at=1.1),
        ev.HostFinished(step_id="s", host="web1", status="ok", batch=1, duration=0.5, rc=0, at=1.6),
        ev.HostStarted(step_id="s", host="web2", batch=2, at=1.7),
        ev.HostFinished(step_id="s", host="web2", status="failed", batch=2, duration=0.4, rc=3, at=2.1),
        ev.StepFinished(step_id="s", status="failed", duration=1.2, at=2.2),
        ev.StepStarted(step_id="s", title="S", step_kind="shell", phase="step", attempt=2, at=3.0),
        ev.HostStarted(step_id="s", host="web2", batch=1, at=3.1),
        ev.HostFinished(step_id="s", host="web2", status="ok", batch=1, duration=0.3, rc=0, at=3.4),
    ]
    for event in events:
        assert ev.from_dict(ev.to_dict(event)) == event
    hosts = fold(events).step("s").hosts
    assert {h: (r.status, r.attempt, r.rc) for h, r in hosts.items()} == {
        "web1": ("ok", 1, 0),
        "web2": ("ok", 2, 0),
    }


def test_inventory_option_must_name_a_file(tmp_path: Path) -> None:
    path = write_runbook(
        tmp_path, RUNBOOK.format(steps="      - {id: a, title: A, kind: shell, command: 'true'}")
    )
    done = run_cli("run", str(path), "main", "--plain", "--inventory", "nope.ini", cwd=tmp_path)
    assert done.returncode == 2
    assert "--inventory nope.ini: no such file" in done.stderr
    assert "Traceback" not in done.stderr


async def test_a_drill_does_not_reach_the_runbooks_own_hosts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from helpers.engine import ScriptedAsker

    from runbook_tui.core.engine import Session
    from runbook_tui.core.events import StepStatus

    monkeypatch.delenv("RUNBOOK_TUI_INVENTORY", raising=False)
    steps = """      - id: a
        title: A
        kind: shell
        targets: web
        command: touch touched"""
    runbook = load_runbook(write_runbook(tmp_path, RUNBOOK.format(steps=steps)))
    session = Session(runbook, "main", workdir=tmp_path, ask=ScriptedAsker(), mode="drill")
    await session.start()
    assert await session.run_step("a") is StepStatus.FAILED
    assert (
        "a drill does not run fleet steps on the runbook's own inventory" in session.state.step("a").message
    )
    assert "pass --inventory FILE" in session.state.step("a").message
    await session.finish()
