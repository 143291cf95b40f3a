"""Fleet steps: one command (or playbook) on many hosts, through Ansible, never our own SSH.

A shell step with ``targets`` becomes a generated playbook of one play (``serial``
and ``max_fail_percentage`` are play keywords) whose one task runs the command
with Ansible's ``shell`` module under ``/bin/bash``, fail-closed like a local
step. ``ansible-runner`` runs it in a worker thread; its per-host events come
back to the event loop and become ``host_started`` / ``host_finished`` events and
output lines prefixed ``[host] ``.

Before anything runs the pattern is resolved against the inventory and checked
against ``max_hosts``. A retry or a resume runs only the hosts that have no
result yet or failed (``--limit``), and says so in the journal.

ansible-runner writes the environment, the command and every output into its
``artifacts/`` folder unredacted: it runs in a private 0700 folder that is
deleted after the step. Parameters reach the task through its ``environment``,
never on a command line.
"""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import yaml

from . import events as ev
from .errors import RunbookTuiError
from .events import HostStatus, StepStatus
from .model import FleetSpec, ShellSpec, Step, StepKind
from .steps.base import StepContext, StepOutcome, StepRunner

INVENTORY_ENV = "RUNBOOK_TUI_INVENTORY"
NOT_LIVE = "output of each host arrives when its task ends there (Ansible does not stream it)"
STRICT_PRELUDE = "set -eEo pipefail\nshopt -s inherit_errexit\n"
# Reads the task's stdin (env_stdin) into exported variables, values exact (trailing
# newlines kept by the x guard), before the command runs; the command's stdin is then empty.
ENV_PRELUDE = (
    "while read -r __rbt_name __rbt_value; do "
    '__rbt_v=$(printf %s "$__rbt_value" | base64 -d; printf x); '
    'export "$__rbt_name=${__rbt_v%x}"; done\n'
    "unset __rbt_name __rbt_value __rbt_v\n"
)
MARKER_ENV = "RUNBOOK_TUI_RUN"  # in the task's environment: how a cancel finds the remote command
DONE = frozenset({HostStatus.OK.value, HostStatus.SKIPPED.value})  # a retry leaves these hosts alone
_RESOLVE_LOCK = threading.Lock()  # Ansible's inventory code keeps module-level state


class FleetError(RunbookTuiError):
    """A fleet step cannot start: no inventory, no ansible executables, too many hosts."""

    exit_code = 1


# --- before anything runs: executables, inventory, hosts, the cap ------------------


def ansible_bin_dir() -> Path:
    """The folder holding ``ansible-playbook`` next to the running Python (a venv or pipx install)."""
    here = Path(sys.executable).parent
    for folder in (here, Path(sys.executable).resolve().parent):
        if (folder / "ansible-playbook").is_file():
            return folder
    found = shutil.which("ansible-playbook")
    if found:
        return Path(found).parent
    raise FleetError(
        f"fleet steps need Ansible, but there is no ansible-playbook next to {sys.executable} "
        "nor on PATH; install runbook-tui with its dependencies (ansible-core, ansible-runner)"
    )


def inventory_for(fleet: FleetSpec, env: Mapping[str, str]) -> str:
    """The inventory to use: ``--inventory`` / ``RUNBOOK_TUI_INVENTORY``, else the runbook's own."""
    path = env.get(INVENTORY_ENV) or fleet.inventory
    if not path:
        raise FleetError(
            f"no Ansible inventory for targets {fleet.targets!r}: add 'inventory: FILE' to the runbook, "
            f"pass --inventory FILE, or set {INVENTORY_ENV}"
        )
    if not Path(path).exists():
        raise FleetError(f"the inventory {path} does not exist; check the path (--inventory or inventory:)")
    return str(Path(path).resolve())


def resolve_hosts(inventory: str, pattern: str) -> list[str]:
    """The hosts ``pattern`` matches in ``inventory``, in Ansible's order (blocking: call in a thread).

    Ansible's own inventory code, in process: any inventory it reads (INI, YAML, a
    script) and any pattern it takes (``web:!web2``, ``web[0:1]``).
    """
    with _RESOLVE_LOCK:
        _import_ansible()
        from ansible.inventory.manager import InventoryManager
        from ansible.parsing.dataloader import DataLoader

        manager = InventoryManager(loader=DataLoader(), sources=[inventory])
        return [host.name for host in manager.list_hosts(pattern)]


def _import_ansible() -> None:
    """Import Ansible's inventory code once, without colour.

    Ansible's colour module calls ``curses.setupterm()`` on import when stdout says it
    is a tty; under the app, stdout is Textual's capture (a tty with no file
    descriptor), and the import fails. ``ANSIBLE_NOCOLOR`` is read only while
    ``ansible.constants`` is first imported, so it is set for that moment.
    """
    if "ansible.inventory.manager" in sys.modules:
        return
    before = os.environ.get("ANSIBLE_NOCOLOR")
    os.environ["ANSIBLE_NOCOLOR"] = "1"
    try:
        import ansible.inventory.manager  # noqa: F401
    finally:
        if before is None:
            os.environ.pop("ANSIBLE_NOCOLOR", None)
        else:
            os.environ["ANSIBLE_NOCOLOR"] = before


def check_cap(fleet: FleetSpec, hosts: Sequence[str]) -> None:
    """Refuse a pattern that matches no host, or more hosts than ``max_hosts`` allows."""
    if not hosts:
        raise FleetError(f"targets {fleet.targets!r} matches no host in the inventory; check the pattern")
    cap = fleet.max_hosts
    if cap is not None and len(hosts) > cap:
        shown = ", ".join(hosts[:10]) + (", ..." if len(hosts) > 10 else "")
        raise FleetError(
            f"targets {fleet.targets!r} matches {len(hosts)} hosts ({shown}) but max_hosts is {cap}; "
            "nothing ran. Narrow the pattern, or raise max_hosts on the step or the runbook"
        )


def batches(hosts: Sequence[str], serial: Sequence[str]) -> list[list[str]]:
    """The batches Ansible cuts ``hosts`` into for ``serial`` (the last size repeats)."""
    sizes = list(serial) or [str(len(hosts))]
    out: list[list[str]] = []
    rest = list(hosts)
    index = 0
    while rest:
        size = _batch_size(sizes[index], len(hosts))
        out.append(rest[:size])
        rest = rest[size:]
        index = min(index + 1, len(sizes) - 1)
    return out


def _batch_size(value: str, total: int) -> int:
    if value.endswith("%"):
        return int(int(value[:-1]) / 100 * total) or 1
    return max(int(value), 1)


def describe_fleet(fleet: FleetSpec, what: str, plan: FleetRun | None = None) -> str:
    """ "restart api on 12 hosts (web1, ...) in batches of 3", once resolved; the pattern before."""
    sizes = ", ".join(fleet.serial)
    batch = f" in batches of {sizes}" if fleet.serial else ""
    if plan is None:
        cap = f" (max_hosts {fleet.max_hosts})" if fleet.max_hosts is not None else ""
        return f"{what} on hosts matching {fleet.targets!r}{batch}{cap}"
    shown = ", ".join(plan.run[:10]) + (", ..." if len(plan.run) > 10 else "")
    again = f" (again; {len(plan.kept)} already done)" if plan.kept else ""
    count = f"{len(plan.run)} host" + ("" if len(plan.run) == 1 else "s")
    return f"{what} on {count}{again} ({shown}){batch}"


# --- the play ----------------------------------------------------------------------


def shell_play(
    step: Step, fleet: FleetSpec, environment: Mapping[str, str], marker: str = ""
) -> list[dict[str, Any]]:
    """The generated playbook for a shell step: one play, one ``shell`` task.

    ``environment`` (parameters and the step's ``env:``) reaches the command through
    the task's stdin, which a prelude exports: Ansible's own ``environment`` keyword
    puts ``NAME=value`` on the ssh command line, where ``ps`` shows it here and on the
    host. ``marker`` (not secret) is in the play's environment, so a cancel can find
    the command on the host and stop it.
    """
    spec = step.spec
    assert isinstance(spec, ShellSpec)
    strict = bool(getattr(spec, "strict", True))  # the opt-out key is added by the shell step's owner
    args: dict[str, Any] = {"executable": "/bin/bash"}
    if spec.cwd:
        args["chdir"] = Unsafe(spec.cwd)
    task: dict[str, Any] = {
        "name": Unsafe(step.title or step.id),
        "ansible.builtin.shell": {
            "cmd": Unsafe(
                (ENV_PRELUDE if environment else "") + (STRICT_PRELUDE if strict else "") + spec.command
            ),
            **args,
        },
    }
    if environment:
        task["ansible.builtin.shell"]["stdin"] = Unsafe(env_stdin(environment))
        task["ansible.builtin.shell"]["stdin_add_newline"] = True  # the last line must end
    if spec.expect_exit:
        task["register"] = "rbt_result"
        task["failed_when"] = f"rbt_result.rc != {int(spec.expect_exit)}"
    play: dict[str, Any] = {
        "name": step.id,
        "hosts": fleet.targets,
        "gather_facts": False,
        "environment": {MARKER_ENV: marker} if marker else {},
        "tasks": [task],
    }
    _play_keywords(play, fleet)
    return [play]


def env_stdin(environment: Mapping[str, str]) -> str:
    """One ``NAME base64(value)`` line per variable: what :data:`ENV_PRELUDE` reads back."""
    return "\n".join(
        f"{name} {base64.b64encode(value.encode('utf-8')).decode('ascii')}"
        for name, value in environment.items()
    )


def stop_command(marker: str) -> str:
    """Kills, on a host, the process groups whose environment carries ``marker``.

    The environment, not the argv: bash execs the last command of a script, so the
    tagged ``bash -c`` may be gone while its ``sleep`` (same environment) runs on.
    """
    wanted = f"{MARKER_ENV}={marker}"
    return (
        "for f in /proc/[0-9]*/environ; do "
        f"if tr '\\0' '\\n' 2>/dev/null < \"$f\" | grep -qx '{wanted}'; then "
        'p=${f#/proc/}; p=${p%/environ}; g=$(ps -o pgid= -p "$p" | tr -d " "); '
        '[ -n "$g" ] && kill -TERM "-$g"; fi; done 2>/dev/null; true'
    )


class Unsafe(str):
    """Text Ansible must take as written: dumped with ``!unsafe``, so ``{{ }}`` is never templated.

    Commands, parameter values and titles are data; Jinja in them would run on the controller.
    """


class _PlaybookDumper(yaml.SafeDumper):
    pass


_PlaybookDumper.add_representer(
    Unsafe,
    lambda dumper, value: dumper.represent_scalar(
        "!unsafe", str(value), style="|" if "\n" in value else None
    ),
)


def dump_playbook(playbook: list[dict[str, Any]]) -> str:
    """The playbook as YAML, :class:`Unsafe` strings tagged ``!unsafe``."""
    return yaml.dump(playbook, Dumper=_PlaybookDumper, sort_keys=False, allow_unicode=True)


def _play_keywords(play: dict[str, Any], fleet: FleetSpec) -> None:
    if fleet.serial:
        play["serial"] = [int(s) if s.isdigit() else s for s in fleet.serial]
    if fleet.max_fail_percentage is not None:
        play["max_fail_percentage"] = fleet.max_fail_percentage
    if fleet.become:
        play["become"] = True


def task_environment(spec_env: Mapping[str, str], params: Mapping[str, str]) -> dict[str, str]:
    """What the task's ``environment`` carries: the parameters, then the step's ``env:``."""
    return {**params, **spec_env}


# --- running: ansible-runner in a thread, its events back on the loop ----------------


@dataclass
class _Host:
    host: str
    batch: int
    started: float
    status: str = HostStatus.SKIPPED.value
    ended: float = 0.0
    rc: int | None = None
    message: str = ""
    tasks: int = 0


_RANK = {
    HostStatus.SKIPPED.value: 0,
    HostStatus.OK.value: 1,
    HostStatus.FAILED.value: 2,
    HostStatus.UNREACHABLE.value: 3,
}
_TERMINAL = {
    "runner_on_ok": HostStatus.OK.value,
    "runner_on_failed": HostStatus.FAILED.value,
    "runner_on_unreachable": HostStatus.UNREACHABLE.value,
    "runner_on_skipped": HostStatus.SKIPPED.value,
}


@dataclass
class _Collector:
    """Turns ansible-runner events into our events; runs on the event loop only."""

    step_id: str
    emit: Callable[[ev.Event], None]
    output: Callable[[list[str], str], None]
    finish_per_task: bool  # one-task play: a host is done when its task ends
    hosts: dict[str, _Host] = field(default_factory=dict)
    finished: dict[str, _Host] = field(default_factory=dict)
    batch: int = 0
    first_task: str | None = None

    def on_event(self, data: Mapping[str, Any]) -> None:
        kind = str(data.get("event", ""))
        event = data.get("event_data") or {}
        if kind == "playbook_on_play_start":
            self.first_task = None
        elif kind == "playbook_on_task_start":
            uuid = str(event.get("task_uuid", ""))
            if self.first_task is None:
                self.first_task = uuid
            if uuid == self.first_task:
                self.batch += 1
        elif kind == "runner_on_start":
            self._start(str(event.get("host", "")))
        elif kind in _TERMINAL and not event.get("ignore_errors"):
            self._task_end(event, _TERMINAL[kind])
        elif kind == "runner_on_failed":  # ignore_errors: the host goes on, as ok
            self._task_end(event, HostStatus.OK.value)

    def _start(self, host: str) -> None:
        if not host or host in self.hosts:
            return
        self.hosts[host] = _Host(host, max(self.batch, 1), time.time())
        self.emit(ev.HostStarted(step_id=self.step_id, host=host, batch=max(self.batch, 1)))

    def _task_end(self, event: Mapping[str, Any], status: str) -> None:
        host = str(event.get("host", ""))
        if not host:
            return
        if host not in self.hosts:  # unreachable hosts may end without a start event
            self._start(host)
        record = self.hosts[host]
        res = event.get("res") or {}
        if not isinstance(res, Mapping):
            res = {}
        self._host_output(host, res, status)
        if record.tasks == 0 or _RANK[status] > _RANK[record.status]:
            record.status = status
            record.message = str(res.get("msg") or "")
        rc = res.get("rc")
        record.rc = rc if isinstance(rc, int) else record.rc
        record.ended = time.time()
        record.tasks += 1
        if self.finish_per_task:
            self.finish(record)

    def _host_output(self, host: str, res: Mapping[str, Any], status: str) -> None:
        prefix = f"[{host}] "
        out = _lines(res.get("stdout"))
        err = _lines(res.get("stderr"))
        if out:
            self.output([prefix + line for line in out], "stdout")
        if err:
            self.output([prefix + line for line in err], "stderr")
        msg = str(res.get("msg") or "")
        if msg and status != HostStatus.OK.value and not (out or err):
            self.output([prefix + line for line in _lines(msg)], "stderr")

    def finish(self, record: _Host) -> None:
        if record.host in self.finished:
            return
        self.finished[record.host] = record
        self.emit(
            ev.HostFinished(
                step_id=self.step_id,
                host=record.host,
                status=record.status,
                batch=record.batch,
                duration=round(max(record.ended - record.started, 0.0), 6),
                rc=record.rc,
                message=record.message,
            )
        )

    def finish_all(self) -> None:
        """At the end: every host that started and has not been reported yet."""
        for record in self.hosts.values():
            if record.ended:
                self.finish(record)


def _lines(value: Any) -> list[str]:
    if not value:
        return []
    return str(value).splitlines()


@dataclass(frozen=True)
class FleetRun:
    """What one fleet step is about to do: the inventory, every matched host, and which run now."""

    inventory: str
    hosts: tuple[str, ...]
    run: tuple[str, ...]

    @property
    def kept(self) -> tuple[str, ...]:
        return tuple(h for h in self.hosts if h not in self.run)


async def prepare(step: Step, fleet: FleetSpec, ctx: StepContext) -> FleetRun:
    """Resolve the pattern, apply the cap, and pick the hosts without a good result (a retry)."""
    if ctx.drill and not ctx.env.get(INVENTORY_ENV):
        # A drill must not reach the hosts the runbook names for real.
        raise FleetError(
            f"a drill does not run fleet steps on the runbook's own inventory (targets {fleet.targets!r}); "
            f"pass --inventory FILE (or set {INVENTORY_ENV}) naming the drill's hosts"
        )
    inventory = inventory_for(fleet, ctx.env)
    try:
        hosts = await asyncio.to_thread(resolve_hosts, inventory, fleet.targets)
    except ImportError as exc:
        raise FleetError(f"fleet steps need ansible-core, which cannot be imported: {exc}") from exc
    except Exception as exc:  # Ansible's own parse errors name the file and line
        raise FleetError(f"cannot read the inventory {inventory}: {exc}") from exc
    check_cap(fleet, hosts)
    earlier: Mapping[str, Any] = getattr(ctx, "host_results", None) or {}
    done = {h for h, r in earlier.items() if getattr(r, "status", "") in DONE}
    run = tuple(h for h in hosts if h not in done)
    return FleetRun(inventory, tuple(hosts), run)


def announce(ctx: StepContext, fleet: FleetSpec, plan: FleetRun) -> None:
    """Say, in the journal, which hosts run now and why the others do not."""
    say = ctx.output
    matched = ", ".join(plan.hosts)
    say(f"{len(plan.hosts)} hosts match {fleet.targets!r} in {plan.inventory}: {matched}", "info")
    if plan.kept:
        say(
            f"running again on {', '.join(plan.run)} only; "
            f"already done earlier: {', '.join(plan.kept)} (--limit)",
            "info",
        )
    say(NOT_LIVE, "info")


async def run_fleet(
    step: Step,
    fleet: FleetSpec,
    ctx: StepContext,
    *,
    plan: FleetRun,
    playbook: list[dict[str, Any]] | None = None,
    playbook_file: str | None = None,
    finish_per_task: bool = True,
    marker: str = "",
) -> StepOutcome:
    """Run a generated play (``playbook``) or a playbook file on ``plan.run``; one outcome for all."""
    if not plan.run:
        return _outcome(fleet, plan, {}, 0, "")
    bin_dir = ansible_bin_dir()
    private = Path(tempfile.mkdtemp(prefix="runbook-tui-ansible-"))  # 0700: artifacts are unredacted
    try:
        project = private / "project"
        project.mkdir()
        if playbook is not None:
            (project / "fleet.yml").write_text(dump_playbook(playbook), encoding="utf-8")
            target = "fleet.yml"
        else:
            assert playbook_file is not None
            target = playbook_file
        return await _run_in_thread(step, fleet, ctx, plan, private, target, bin_dir, finish_per_task, marker)
    finally:
        shutil.rmtree(private, ignore_errors=True)


async def _run_in_thread(
    step: Step,
    fleet: FleetSpec,
    ctx: StepContext,
    plan: FleetRun,
    private: Path,
    playbook: str,
    bin_dir: Path,
    finish_per_task: bool,
    marker: str,
) -> StepOutcome:
    import ansible_runner

    loop = asyncio.get_running_loop()
    output = ctx.output_lines
    emit: Callable[[ev.Event], None] = getattr(ctx, "emit", lambda _e: None)
    collector = _Collector(step.id, emit, output, finish_per_task)
    cancelled = threading.Event()

    def handler(data: dict[str, Any]) -> bool:
        loop.call_soon_threadsafe(collector.on_event, data)
        return False  # not kept on disk: we hold what matters

    envvars = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "ANSIBLE_NOCOLOR": "1",
    }
    kwargs: dict[str, Any] = {
        "private_data_dir": str(private),
        "playbook": playbook,
        "inventory": plan.inventory,
        "envvars": envvars,
        "event_handler": handler,
        "cancel_callback": cancelled.is_set,
        "quiet": True,
        "suppress_env_files": True,
        "limit": ",".join(plan.run),
    }
    if fleet.forks is not None:
        kwargs["forks"] = fleet.forks
    if step.timeout:
        kwargs["timeout"] = max(int(step.timeout), 1)
    if fleet.become and step.kind is StepKind.ANSIBLE:
        kwargs["cmdline"] = "--become"

    def work() -> tuple[int, str, str]:
        runner = ansible_runner.run(**kwargs)
        tail = ""
        if runner.rc not in (0, None) and runner.stdout is not None:
            try:
                tail = "\n".join(runner.stdout.read().splitlines()[-15:])
            except (OSError, ValueError):
                tail = ""
        return int(runner.rc or 0), str(runner.status), tail

    future = loop.run_in_executor(None, work)
    try:
        rc, status, tail = await asyncio.shield(future)
    except asyncio.CancelledError:
        cancelled.set()  # ansible-runner stops ansible-playbook at its next poll
        await asyncio.wait({future})
        await asyncio.sleep(0)  # deliver the events already queued
        collector.finish_all()
        await _stop_started(ctx, collector, plan, marker, envvars, "cancelled")
        raise
    await asyncio.sleep(0)  # events queued with call_soon_threadsafe run before we judge
    collector.finish_all()
    if status == "timeout":
        await _stop_started(ctx, collector, plan, marker, envvars, f"timed out after {step.timeout:g}s")
        return StepOutcome.failed(f"timed out after {step.timeout:g}s")
    return _outcome(fleet, plan, collector.finished, rc, tail)


async def _stop_started(
    ctx: StepContext, collector: _Collector, plan: FleetRun, marker: str, envvars: Mapping[str, str], why: str
) -> None:
    """After a cancel or a timeout: stop the command on the hosts where it had started.

    Stopping ansible-playbook leaves the remote command running (no SIGHUP without a
    pty); it is found there by the marker in its environment.
    """
    running = [h for h in collector.hosts if h not in collector.finished]
    if marker and running:
        ctx.output(f"{why}: stopping the command on {', '.join(running)}", "info")
        await asyncio.to_thread(_stop_remote, plan.inventory, running, marker, envvars)
    for host in running:  # a result, so no host looks as if it were still running
        record = collector.hosts[host]
        record.status, record.message, record.ended = HostStatus.FAILED.value, why, time.time()
        collector.finish(record)


def _stop_remote(inventory: str, hosts: Sequence[str], marker: str, envvars: Mapping[str, str]) -> None:
    """An ad-hoc ``shell`` run of :func:`stop_command` on ``hosts`` (best effort, bounded)."""
    import ansible_runner

    private = Path(tempfile.mkdtemp(prefix="runbook-tui-ansible-"))
    try:
        ansible_runner.run(
            private_data_dir=str(private),
            host_pattern=",".join(hosts),
            inventory=inventory,
            module="ansible.builtin.shell",
            module_args=stop_command(marker),
            envvars=dict(envvars),
            quiet=True,
            suppress_env_files=True,
            timeout=30,
        )
    except Exception:  # the step is cancelled either way; the info line said what was tried
        pass
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _outcome(
    fleet: FleetSpec, plan: FleetRun, finished: Mapping[str, _Host], rc: int, tail: str
) -> StepOutcome:
    failing = (HostStatus.FAILED.value, HostStatus.UNREACHABLE.value)
    bad = [r for r in finished.values() if r.status in failing]
    not_run = [h for h in plan.run if h not in finished]
    data: dict[str, Any] = {
        "pattern": fleet.targets,
        "inventory": plan.inventory,
        "hosts": list(plan.hosts),
        "ran": list(plan.run),
        "not_run": not_run,
    }
    if bad:
        named = ", ".join(f"{r.host} {r.status}" + (f" (rc {r.rc})" if r.rc is not None else "") for r in bad)
        tail_words = f"; not run: {', '.join(not_run)}" if not_run else ""
        return StepOutcome(
            StepStatus.FAILED, f"{len(bad)} of {len(plan.run)} hosts failed: {named}{tail_words}", rc, data
        )
    if rc != 0 or not_run:
        why = f"ansible-playbook exited {rc}" + (f"; not run: {', '.join(not_run)}" if not_run else "")
        return StepOutcome(StepStatus.FAILED, why + (f": {tail}" if tail else ""), rc, data)
    done = len(finished) + len(plan.kept)
    return StepOutcome(StepStatus.PASSED, f"ok on {done} of {len(plan.hosts)} hosts", 0, data)


# --- the runner for shell steps with targets ------------------------------------------


class FleetRunnerBase(StepRunner):
    """What every fleet runner shares: the hosts resolved and capped before the gate.

    The engine calls :meth:`preflight` before a step's gate (when a runner has it),
    so a too-wide pattern fails before anyone is asked, and :meth:`describe` (the
    gate's words and the step's command line) can name the count.
    """

    def __init__(self) -> None:
        self._plans: dict[str, FleetRun] = {}

    async def preflight(self, step: Step, ctx: StepContext) -> None:
        """Resolve the pattern and apply ``max_hosts``; FleetError says why it cannot run."""
        if step.fleet is None:
            raise FleetError(f"step {step.id!r} has no targets")
        self._plans[step.id] = await prepare(step, step.fleet, ctx)

    async def plan(self, step: Step, fleet: FleetSpec, ctx: StepContext) -> FleetRun:
        """The preflight's result for this run, or a fresh one."""
        found = self._plans.pop(step.id, None)
        return found if found is not None else await prepare(step, fleet, ctx)

    def describe_hosts(self, step: Step, what: str) -> str:
        assert step.fleet is not None
        return describe_fleet(step.fleet, what, self._plans.get(step.id))


class FleetShellRunner(FleetRunnerBase):
    """A shell step with ``targets``: its command on every matching host, through Ansible."""

    kind: ClassVar[StepKind] = StepKind.SHELL

    def describe(self, step: Step) -> str:
        spec = step.spec
        command = spec.command if isinstance(spec, ShellSpec) else step.title
        return self.describe_hosts(step, command)

    async def run(self, step: Step, ctx: StepContext) -> StepOutcome:
        fleet = step.fleet
        spec = step.spec
        if fleet is None or not isinstance(spec, ShellSpec):
            raise FleetError(f"step {step.id!r} has no targets")
        plan = await self.plan(step, fleet, ctx)
        announce(ctx, fleet, plan)
        params: Mapping[str, str] = getattr(ctx, "params", None) or {}
        marker = uuid.uuid4().hex
        play = shell_play(step, fleet, task_environment(spec.env, params), marker)
        return await run_fleet(step, fleet, ctx, plan=plan, playbook=play, marker=marker)
