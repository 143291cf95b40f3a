"""Build and tear down a drill sandbox: a temp folder that behaves like production.

Layout of a sandbox (``Sandbox.root``)::

    work/    the working directory the procedure's commands run in (the drill's files/)
    bin/     the drill's stand-ins, first on PATH
    state/   what the stand-ins record (calls, deployed version, the fault), pid files, logs

The drill's own ``setup`` script builds the world (images, compose project, git
repository, databases); its ``teardown`` script removes it. Python does the
generic part: copying, the environment, requirement and port checks, timeouts,
and making sure nothing is left behind when setup fails half way.
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from types import TracebackType
from typing import Any

from ..model import Runbook
from .definition import DrillDefinition, Fault, find_drill
from .errors import DrillError
from .limits import DrillLimits
from .requirements import busy_ports, docker_problem, missing_tools

RANDOM = "random"
TEARDOWN_TIMEOUT = 60.0
_GITCONFIG = """[user]
\tname = Drill Engineer
\temail = drill@runbook-tui.invalid
[init]
\tdefaultBranch = main
[advice]
\tdetachedHead = false
[gc]
\tauto = 0
"""


@dataclass(eq=False)
class Sandbox:
    """A built drill: where to run, with which environment, and which faults are in play."""

    id: str
    drill: DrillDefinition
    root: Path
    env: dict[str, str]
    faults: list[str] = field(default_factory=list)
    params: dict[str, str] = field(default_factory=dict)  # values the drill suggests
    simulated: bool = False
    notice: str = ""  # said to the engineer before the drill starts (e.g. simulated stack)
    fault_was_random: bool = False
    closed: bool = False

    @property
    def workdir(self) -> Path:
        return self.root / "work"

    @property
    def bin_dir(self) -> Path:
        return self.root / "bin"

    @property
    def state_dir(self) -> Path:
        return self.root / "state"

    @property
    def limits(self) -> DrillLimits:
        """How long watch and http retries may wait in this drill, app and headless alike."""
        return self.drill.limits

    @property
    def fault(self) -> Fault | None:
        """The injected fault's definition (at most one per sandbox)."""
        return self.drill.fault(self.faults[0]) if self.faults else None

    def close(self, keep: bool = False) -> None:
        """Tear everything down; remove the folder unless keep.

        In order: the drill's teardown script, the stand-ins' recorded processes, the
        sandbox's gpg-agent (``gpgconf --kill all`` with its GNUPGHOME), then any other
        process the drill left (its environment names this sandbox, or its working
        directory or command line is inside it), and last the folder, retried while
        something still writes into it. With ``keep`` the processes stop all the same.
        """
        if self.closed:
            return
        self.closed = True
        problems: list[str] = []
        if self.drill.teardown and self.root.is_dir():
            problems += _run_script(self, self.drill.teardown, "teardown", TEARDOWN_TIMEOUT, check=False)
        _kill_recorded_processes(self.state_dir / "pids")
        _stop_gpg_agent(self)
        _kill_sandbox_processes(self.root)
        if not keep:
            problems += _remove_tree(self.root)
        if problems:
            raise DrillError("drill teardown did not finish cleanly:\n" + "\n".join(problems))

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def list_faults(runbook: Runbook) -> list[str]:
    """The names of the faults the runbook's drill can inject."""
    return [f.name for f in find_drill(runbook).faults]


def build_sandbox(runbook: Runbook, fault: str | None = None, *, simulated: bool | None = None) -> Sandbox:
    """Build the runbook's drill sandbox; ``fault`` is a fault name or ``"random"``.

    ``simulated``: None uses the simulated stack only when a required Docker
    Engine is missing (and says so in ``Sandbox.notice``); True always; False never.
    """
    drill = find_drill(runbook)
    chosen, was_random = _choose_fault(drill, fault)
    use_simulated, notice = _decide_stack(drill, simulated)
    _check_machine(drill, use_simulated)
    sandbox = Sandbox(
        id=secrets.token_hex(4),
        drill=drill,
        root=Path(tempfile.mkdtemp(prefix=f"runbook-tui-drill-{runbook.id}-")),
        env={},
        faults=[chosen.name] if chosen else [],
        simulated=use_simulated,
        notice=notice,
        fault_was_random=was_random,
    )
    try:
        _populate(sandbox, chosen)
        script = drill.simulated.setup if use_simulated and drill.simulated else None
        if drill.setup:
            _run_script(sandbox, drill.setup, "setup", drill.timeout)
        if script:
            _run_script(sandbox, script, "simulated setup", drill.timeout)
    except BaseException:
        with contextlib.suppress(DrillError):  # the setup error is the one to show
            sandbox.close()
        raise
    return sandbox


def _choose_fault(drill: DrillDefinition, name: str | None) -> tuple[Fault | None, bool]:
    if not name:
        return None, False
    if name == RANDOM:
        if not drill.faults:
            raise DrillError(f"{drill.path}: this drill defines no faults to pick from")
        return random.Random(time.time_ns()).choice(drill.faults), True
    found = drill.fault(name)
    if found is None:
        known = ", ".join(f.name for f in drill.faults) or "none"
        raise DrillError(
            f"the {drill.runbook} drill has no fault {name!r}; its faults: {known} (or 'random')"
        )
    return found, False


def _decide_stack(drill: DrillDefinition, simulated: bool | None) -> tuple[bool, str]:
    if simulated is True:
        if drill.simulated is None:
            raise DrillError(f"{drill.path}: this drill has no simulated stack")
        return True, drill.simulated.notice
    if "docker" not in drill.requires:
        return False, ""
    problem = docker_problem()
    if problem is None:
        return False, ""
    if simulated is None and drill.simulated is not None:
        return True, f"Docker is not available: {problem}.\n{drill.simulated.notice}"
    raise DrillError(f"the {drill.runbook} drill needs a Docker Engine: {problem}")


def _check_machine(drill: DrillDefinition, use_simulated: bool) -> None:
    missing = missing_tools(drill.requires)
    if missing:
        raise DrillError(f"the {drill.runbook} drill cannot run here:\n  " + "\n  ".join(missing))
    busy = busy_ports(drill.ports)
    if busy:
        ports = ", ".join(str(p) for p in busy)
        raise DrillError(
            f"the {drill.runbook} drill needs port(s) {ports}, which something already listens on "
            "(another drill sandbox? `docker compose ls` lists compose projects): stop it and retry"
        )


def _populate(sandbox: Sandbox, fault: Fault | None) -> None:
    drill = sandbox.drill
    for sub in ("bin", "state", "state/pids", "state/gnupg"):
        (sandbox.root / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(sandbox.state_dir / "gnupg", 0o700)
    (sandbox.state_dir / "gitconfig").write_text(_GITCONFIG, encoding="utf-8")
    files = _folder(drill, drill.files, "files")
    if files:
        _copy_tree(files, sandbox.workdir)
    sandbox.workdir.mkdir(exist_ok=True)
    stand_ins = _folder(drill, drill.bin, "bin")
    if stand_ins:
        _copy_tree(stand_ins, sandbox.bin_dir, executable=True)
    if sandbox.simulated and drill.simulated and drill.simulated.bin:
        _copy_tree(drill.folder / drill.simulated.bin, sandbox.bin_dir, executable=True)
    fault_note = fault.name if fault else ""
    if fault and sandbox.fault_was_random:
        fault_note += " (picked at random)"
    (sandbox.state_dir / "fault").write_text(fault_note + "\n", encoding="utf-8")
    sandbox.env = _environment(sandbox, fault)
    sandbox.params = {**drill.params, **(fault.params if fault else {})}


def _folder(drill: DrillDefinition, named: str | None, default: str) -> Path | None:
    """The folder the drill names (it must exist), or the default one when present."""
    if named:
        return drill.folder / named
    candidate = drill.folder / default
    return candidate if candidate.is_dir() else None


def _environment(sandbox: Sandbox, fault: Fault | None) -> dict[str, str]:
    drill = sandbox.drill
    values = {
        "DRILL_ID": sandbox.id,
        "DRILL_HOME": str(sandbox.root),
        "DRILL_WORKDIR": str(sandbox.workdir),
        "DRILL_STATE": str(sandbox.state_dir),
        "DRILL_ASSETS": str(drill.folder),
        "DRILL_FAULT": fault.name if fault else "",
        "DRILL_SIMULATED": "1" if sandbox.simulated else "",
        "DRILL_PYTHON": sys.executable,
        "RUNBOOK_TUI_DRILL": "1",
        "GNUPGHOME": str(sandbox.state_dir / "gnupg"),
        "GIT_CONFIG_GLOBAL": str(sandbox.state_dir / "gitconfig"),
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    extra = dict(drill.env)
    if sandbox.simulated and drill.simulated:
        extra.update(drill.simulated.env)
    if fault:
        extra.update(fault.env)
    for key, value in extra.items():
        values[key] = Template(value).safe_substitute(values)
    env = dict(os.environ)
    env.update(values)
    env["PATH"] = os.pathsep.join([str(sandbox.bin_dir), env.get("PATH", os.defpath)])
    return env


def _copy_tree(source: Path, target: Path, *, executable: bool = False) -> None:
    if not source.is_dir():
        raise DrillError(f"{source}: the drill names this folder, but it does not exist")
    shutil.copytree(source, target, symlinks=True, dirs_exist_ok=True)
    for path in target.rglob("*"):
        if path.is_file() and not path.is_symlink():
            _fix_script(path, force_executable=executable)


def _fix_script(path: Path, *, force_executable: bool) -> None:
    """Scripts keep working from a read-only install: exec bit, and ``#!@PYTHON@`` -> this Python."""
    with path.open("rb") as handle:
        head = handle.read(2)
    if head != b"#!" and not force_executable:
        return
    data = path.read_bytes()
    if data.startswith(b"#!@PYTHON@"):
        path.write_bytes(b"#!" + sys.executable.encode() + data[len(b"#!@PYTHON@") :])
    path.chmod(path.stat().st_mode | 0o755)


def _run_script(
    sandbox: Sandbox, script: str, label: str, timeout: float, *, check: bool = True
) -> list[str]:
    """Run one of the drill's scripts in the workdir; failures raise (or are returned when not check)."""
    path = sandbox.drill.folder / script
    if not path.is_file():
        raise DrillError(f"{sandbox.drill.path}: {label} script {script!r} does not exist at {path}")
    log = sandbox.state_dir / f"{label.replace(' ', '-')}.log"
    cwd = sandbox.workdir if sandbox.workdir.is_dir() else sandbox.root
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [*_interpreter(path), str(path)],
            cwd=cwd,
            env=sandbox.env or None,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.wait()
            code = None
    if code == 0:
        return []
    what = f"timed out after {timeout:.0f}s" if code is None else f"exited {code}"
    message = f"drill {label} ({path}) {what}; last lines of {log}:\n{_tail(log)}"
    if check:
        raise DrillError(message)
    return [message]


def _interpreter(path: Path) -> list[str]:
    with path.open("rb") as handle:
        first = handle.readline().decode("utf-8", "replace").strip()
    if first.startswith("#!"):
        return first[2:].split()
    return ["/bin/sh"]


def _tail(log: Path, lines: int = 25) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "  (no output)"
    return "\n".join("  " + line for line in text.splitlines()[-lines:]) or "  (no output)"


def _kill_group(pid: int) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        time.sleep(0.2)


def _kill_recorded_processes(pids: Path) -> None:
    """Stand-ins that start servers write ``state/pids/<name>.pid``; none outlives the sandbox."""
    if not pids.is_dir():
        return
    for pid_file in pids.glob("*.pid"):
        try:
            pid = int(pid_file.read_text().strip())
        except (OSError, ValueError):
            continue
        _kill_group(pid)
        pid_file.unlink(missing_ok=True)


# --- leaving nothing behind ---------------------------------------------------------

RMTREE_ATTEMPTS = 5


def _stop_gpg_agent(sandbox: Sandbox) -> None:
    """``gpg`` starts a gpg-agent daemon for the sandbox's GNUPGHOME: stop it and its socket folder."""
    home = sandbox.state_dir / "gnupg"
    gpgconf = shutil.which("gpgconf")
    if not home.is_dir() or gpgconf is None:
        return
    env = {**(sandbox.env or os.environ), "GNUPGHOME": str(home)}
    for args in (["--kill", "all"], ["--remove-socketdir"]):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                [gpgconf, *args],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=10,
                check=False,
            )


def sandbox_processes(root: Path) -> list[int]:
    """Pids of processes the drill left: its environment names ``root``, or cwd/command line is in it.

    Never this process or its ancestors, and never a process in another pid namespace
    (a container's, whose paths are not ours). Linux only (``/proc``); elsewhere none.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    mine = _ancestors()
    namespace = _pid_namespace(os.getpid())
    needle = str(root)
    marker = f"DRILL_HOME={needle}".encode()
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        pid = int(entry.name)
        if _pid_namespace(pid) != namespace:
            continue
        if _inside(entry, needle, marker):
            found.append(pid)
    return found


def _inside(entry: Path, needle: str, marker: bytes) -> bool:
    with contextlib.suppress(OSError):
        cwd = os.readlink(entry / "cwd")
        if cwd == needle or cwd.startswith(needle + os.sep):
            return True
    with contextlib.suppress(OSError):
        if needle.encode() in (entry / "cmdline").read_bytes():
            return True
    with contextlib.suppress(OSError):
        if marker + b"\0" in (entry / "environ").read_bytes() + b"\0":
            return True
    return False


def _ancestors() -> set[int]:
    pids = {os.getpid()}
    pid = os.getpid()
    while pid > 1:
        try:
            stat_line = Path(f"/proc/{pid}/stat").read_text()
            pid = int(stat_line.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        pids.add(pid)
    return pids


def _pid_namespace(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return ""


def _kill_sandbox_processes(root: Path) -> None:
    """SIGTERM every process the drill left, then SIGKILL whatever is still there after 2 s."""
    pids = sandbox_processes(root)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + 2.0
        while pids and time.monotonic() < deadline:
            pids = [p for p in pids if _alive(p)]
            if pids:
                time.sleep(0.05)
        if not pids:
            return


def _alive(pid: int) -> bool:
    """Running (a zombie has stopped: it only waits for its parent to reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _remove_tree(root: Path) -> list[str]:
    """Remove ``root`` even while something still writes into it: stop the writers and try again."""
    for attempt in range(RMTREE_ATTEMPTS):
        if not root.exists():
            return []
        shutil.rmtree(root, onerror=_retry_removal)
        if not root.exists():
            return []
        _kill_sandbox_processes(root)  # a writer made a new file behind rmtree's back
        time.sleep(0.1 * (attempt + 1))
    return [f"the drill sandbox {root} could not be removed; remove it with: rm -rf {root}"]


def _retry_removal(func: Any, path: str, _exc: Any) -> None:
    """rmtree's error hook: make the parent writable (a read-only folder) and try once more."""
    with contextlib.suppress(OSError):
        parent = os.path.dirname(path)
        os.chmod(parent, os.stat(parent).st_mode | 0o700)
    with contextlib.suppress(OSError):
        func(path)
