"""A fleet step over the three loopback ssh hosts, against ansible-playbook run directly.

Ours: one shell step with ``targets: web`` and ``forks: 3`` run by the engine
(``Session.run_step``) in a fresh process: resolving the pattern (Ansible's own
inventory code, imported on first use), the private folder, ansible-runner, every
host event journalled. The reference, in the same run and interleaved with ours:
``ansible-playbook -i INVENTORY -f 3`` on the same one-task playbook (the play our
step generates), as its own process. Goal: ours under 1.2x.

Needs the loopback sshd: ``bash scripts/components.sh sshd-start``.

    /work/venv/bin/python bench/bench_fleet.py [--runs 5] [--inventory FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import ROOT, fmt_ratio, isolated_env, median, print_machine, run_child, verdict

DEFAULT_INVENTORY = Path(os.environ.get("RBT_SSHD_DIR", "/tmp/runbook-tui-sshd")) / "inventory.ini"
COMMAND = 'echo "restarted on ${SSH_CONNECTION% *}"'
RUNBOOK = """\
runbook: 1
id: bench-fleet
title: Bench fleet
inventory: {inventory}
procedures:
  - id: main
    title: Main
    steps:
      - id: restart
        title: Restart api
        kind: shell
        targets: web
        forks: 3
        command: |
          {command}
"""


def child_ours(runbook: Path, workdir: Path) -> dict[str, Any]:
    """One fleet step through the engine, journalled; seconds from run_step to its end."""
    sys.path.insert(0, str(ROOT))
    from runbook_tui.core.asker import ConfirmRequest, ManualAnswer
    from runbook_tui.core.engine import Session
    from runbook_tui.core.journal import Journal, new_session_id
    from runbook_tui.core.loader import load_runbook
    from runbook_tui.core.model import Parameter, Step

    class Yes:
        async def confirm(self, request: ConfirmRequest) -> bool:
            return True

        async def parameter(self, param: Parameter, choices: list[str]) -> str | None:
            return None

        async def manual(self, step: Step) -> ManualAnswer:
            return ManualAnswer(True, "")

    async def main() -> dict[str, Any]:
        book = load_runbook(runbook)
        journal = Journal.create(new_session_id(book.id), workdir)
        session = Session(book, "main", workdir=workdir, ask=Yes(), journal=journal)
        await session.start()
        figures: dict[str, Any] = {}
        # First in a fresh process (Ansible's inventory code and ansible-runner imported
        # on first use), then the same step again in the same process (every host again).
        for name in ("first", "warm"):
            cpu_before = _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            status = await session.run_step("restart")
            figures[name] = time.perf_counter() - started
            figures[f"{name}_cpu"] = _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN) - cpu_before
            if status.value != "passed":
                figures["status"] = status.value
        await session.finish()
        hosts = session.state.step("restart").hosts
        return {"status": "passed", **figures, "hosts": sorted(hosts)}

    return asyncio.run(main())


def direct(playbook: Path, inventory: Path, bin_dir: Path) -> dict[str, Any]:
    """ansible-playbook itself on the same play, as one process."""
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["ANSIBLE_RETRY_FILES_ENABLED"] = "False"
    cpu_before = _cpu(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(
        [str(bin_dir / "ansible-playbook"), "-i", str(inventory), "-f", "3", str(playbook)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    seconds = time.perf_counter() - started
    cpu = _cpu(resource.RUSAGE_CHILDREN) - cpu_before
    if proc.returncode != 0:
        raise RuntimeError(f"ansible-playbook failed:\n{proc.stdout[-3000:]}")
    return {"seconds": seconds, "cpu": cpu}


def _cpu(who: int) -> float:
    """User + system CPU seconds of ``who`` (this process, or its waited-for children)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--inventory", type=Path, default=DEFAULT_INVENTORY)
    parser.add_argument("--child", nargs=2, metavar=("RUNBOOK", "WORKDIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import json

        print(json.dumps(child_ours(Path(args.child[0]), Path(args.child[1]))))
        return
    sys.path.insert(0, str(ROOT))

    from runbook_tui.core.fleet import ansible_bin_dir, dump_playbook, shell_play
    from runbook_tui.core.loader import load_runbook

    if not args.inventory.is_file():
        sys.exit(f"bench_fleet: no inventory at {args.inventory}; run: bash scripts/components.sh sshd-start")
    print_machine()
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp_name:
        tmp = Path(tmp_name)
        runbook = tmp / "fleet.yaml"
        runbook.write_text(RUNBOOK.format(inventory=args.inventory, command=COMMAND))
        step = load_runbook(runbook).procedures[0].steps[0]
        assert step.fleet is not None
        playbook = tmp / "direct.yml"  # exactly the play our step generates
        playbook.write_text(dump_playbook(shell_play(step, step.fleet, {})))
        bin_dir = ansible_bin_dir()
        env = isolated_env(tmp)
        figures: dict[str, list[float]] = {k: [] for k in ("first", "first_cpu", "warm", "warm_cpu")}
        ref: list[float] = []
        ref_cpu: list[float] = []
        for run in range(args.runs):
            result = run_child([__file__, "--child", str(runbook), str(tmp)], env=env)
            if result["status"] != "passed" or result["hosts"] != ["web1", "web2", "web3"]:
                raise RuntimeError(f"the fleet step did not pass on all three hosts: {result}")
            for key in figures:
                figures[key].append(result[key])
            reference = direct(playbook, args.inventory, bin_dir)
            ref.append(reference["seconds"])
            ref_cpu.append(reference["cpu"])
            print(
                f"run {run + 1}: ours {result['first']:.2f}s ({result['first_cpu']:.2f}s CPU), "
                f"again {result['warm']:.2f}s ({result['warm_cpu']:.2f}s CPU); "
                f"ansible-playbook {ref[-1]:.2f}s ({ref_cpu[-1]:.2f}s CPU)"
            )
        r, rc = median(ref), median(ref_cpu)
        print(f"ansible-playbook: {r:.2f}s wall, {rc:.2f}s CPU (medians of {args.runs})")
        for name, words in (("first", "first fleet step of a process"), ("warm", "a later fleet step")):
            o, oc = median(figures[name]), median(figures[f"{name}_cpu"])
            print(
                f"{words}: {o:.2f}s wall -> {fmt_ratio(o, r)} (goal under 1.2x: {verdict(o < 1.2 * r)}), "
                f"{oc:.2f}s CPU -> {fmt_ratio(oc, rc)}"
            )


if __name__ == "__main__":
    main()
