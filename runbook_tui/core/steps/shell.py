"""Shell steps: a command in its own process group, its output streamed line by line.

``run_command`` is the reusable part (watch steps and parameter choices use it too):
it starts bash (``-e -o pipefail`` for strict steps) with stdout on a pseudo-terminal
and stderr on a pipe, hands every line to a callback as it arrives, and on timeout or
cancellation stops the whole group with SIGINT, then SIGTERM, then SIGKILL. Output is
never accumulated, so memory stays flat however much a command prints.
"""

from __future__ import annotations

import codecs
import dataclasses
import os
import shlex
import signal
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..durations import format_seconds
from ..model import Step, StepKind
from .base import KindDef, StepContext, StepOutcome, StepRunner, frozen_map

if TYPE_CHECKING:
    import asyncio

    from ..loader.nodes import MappedNode, NodeReader


# --- the kind: its spec, keys and reader ----------------------------------------


@dataclass(frozen=True, slots=True)
class ShellSpec:
    """Run ``command`` with bash in its own process group (``-e -o pipefail`` unless not ``strict``)."""

    command: str
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=frozen_map)
    expect_exit: int = 0
    strict: bool = True  # ``strict: false`` runs without -e/pipefail: a failed line does not stop it


def command(r: NodeReader, m: MappedNode, what: str) -> str:
    """The ``command`` key, which must not be blank (shell and watch steps)."""
    from yaml.nodes import ScalarNode  # yaml only when a runbook is read, not when a step runs

    text = r.text(m, "command", what)
    node = m.get("command")
    if node is not None and isinstance(node, ScalarNode) and not text.strip():
        r.ctx.error(node, f"'command' of {what} is empty")
    return text


def read(r: NodeReader, m: MappedNode, what: str) -> ShellSpec:
    """A shell step's keys."""
    return ShellSpec(
        command=command(r, m, what),
        cwd=r.opt_text(m, "cwd", what),
        env=r.text_map(m, "env", what),
        expect_exit=r.integer(m, "expect_exit", what, 0) or 0,
        strict=r.boolean(m, "strict", what, True),
    )


def describe(spec: ShellSpec) -> str | None:
    """The command (None when empty: the title)."""
    return spec.command or None


# --- the runner ------------------------------------------------------------------

LineCallback = Callable[[str, str], None]
"""``on_line(text, stream)``; stream is ``stdout``, ``stderr`` or ``info``."""

LinesCallback = Callable[[list[str], str], None]
"""``on_lines(lines, stream)``: the lines one slice of a pipe completed, in order."""

SHELL = "/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh"
MAX_LINE = 64 * 1024  # longer lines are split so one huge line cannot exhaust memory
PIPE_GRACE = 0.5  # how long to keep reading after the process's own output (background children)
SLICE = 8 * 1024  # the most pipe bytes split and delivered in one event-loop callback
STOP_WAIT = 2.0  # how long each of SIGINT and SIGTERM gets before the next signal
KILL_WAIT = 5.0  # after SIGKILL, how long to wait for the group to disappear
_POLL = 0.02
PTY_COLUMNS, PTY_ROWS = 250, 50  # a fixed wide window: tools do not cut or wrap lines at 80
# Pagers need a keyboard the step has not got: on the pty they would stop the step or cut
# its output (``git tag`` would show one screen of tags in ``less`` and pass).
PTY_ENV = {"PAGER": "cat", "GIT_PAGER": "cat", "SYSTEMD_PAGER": "cat"}
SIGPIPE_STATUS = 128 + signal.SIGPIPE
PTY_READ = 64 * 1024  # the most pty bytes read in one callback (a pipe's read size)
NOT_STRICT = " (strict: false, a failed line does not stop it)"  # said where the choice shows
MAX_SHOWN = 200  # the most characters of a failing line an outcome message quotes


@dataclass(frozen=True, slots=True)
class CommandResult:
    """How a command ended: its exit status, the signal that killed it, or why it never ran."""

    exit_code: int | None = None
    signal: str | None = None  # e.g. "SIGTERM" when a signal ended it
    timed_out: bool = False
    error: str | None = None  # it could not start: missing directory, no shell
    elapsed: float = 0.0
    pid: int | None = None  # also the process group id
    failed_at: str | None = None  # strict shell: ``line 3: docker compose down api``

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and self.error is None

    def describe(self, timeout: float | None = None) -> str:
        """``exited with status 3 at line 2: make deploy``, ``killed by SIGTERM``, ``timed out after 5m``."""
        text = self._how(timeout)
        return f"{text} at {self.failed_at}" if self.failed_at and not self.timed_out else text

    def _how(self, timeout: float | None) -> str:
        if self.error is not None:
            return self.error
        if self.timed_out:
            return f"timed out after {format_timeout(timeout if timeout is not None else self.elapsed)}"
        if self.signal is not None:
            return f"killed by {self.signal}"
        return f"exited with status {self.exit_code}"


def format_timeout(seconds: float) -> str:
    """``300`` -> ``5m``, ``90`` -> ``1m30s``, ``2.5`` -> ``2.5s``: the way runbooks write it."""
    if seconds >= 60 and seconds == int(seconds) and int(seconds) % 60 == 0:
        minutes = int(seconds) // 60
        return f"{minutes // 60}h" if minutes % 60 == 0 and minutes >= 60 else f"{minutes}m"
    text = format_seconds(seconds)
    return text.replace("m00s", "m") if text.endswith("m00s") else text


class LineSplitter:
    """Turns chunks of bytes into lines: UTF-8 with replacement, CRLF, progress bars, long lines.

    A carriage return without a newline is a progress bar redrawing itself: of the
    segments completed within one chunk only the newest is emitted, so a bar is
    seen live without flooding the log. With ``emit_many`` the lines a chunk
    completes are handed over as one list (in order) instead of one call each.
    """

    def __init__(
        self,
        emit: Callable[[str], None],
        max_line: int = MAX_LINE,
        emit_many: Callable[[list[str]], None] | None = None,
    ) -> None:
        self._emit_one = emit
        self._emit_many = emit_many
        self._max = max_line
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._closed = False

    def feed(self, data: bytes) -> None:
        """Take the next chunk; emit every line it completes."""
        if self._closed:
            return
        text = self._pending + self._decoder.decode(data)
        hold = ""
        if text.endswith("\r"):  # maybe the first half of a CRLF split across chunks
            text, hold = text[:-1], "\r"
        lines = text.split("\n")
        rest = lines.pop()
        if "\r" in text or len(text) > self._max:
            lines = self._bounded(lines, rest)
            rest = lines.pop()
        while len(rest) >= self._max:
            lines.append(rest[: self._max])
            rest = rest[self._max :]
        self._pending = rest + hold
        self._deliver(lines)

    def _bounded(self, lines: list[str], rest: str) -> list[str]:
        """The slow path: redraws resolved, long lines cut; the unfinished rest comes last."""
        done: list[str] = []
        for line in lines:
            done.extend(self._pieces(_last_redraw(line[:-1] if line.endswith("\r") else line)))
        if "\r" in rest:
            *redraws, rest = rest.split("\r")
            latest = next((seg for seg in reversed(redraws) if seg), None)
            if latest is not None:
                done.extend(self._pieces(latest))
        done.append(rest)
        return done

    def _pieces(self, line: str) -> list[str]:
        # A line completed by this chunk may carry a held-back part from earlier chunks.
        if len(line) <= self._max:
            return [line]
        return [line[i : i + self._max] for i in range(0, len(line), self._max)]

    def _deliver(self, lines: list[str]) -> None:
        if not lines:
            return
        if self._emit_many is not None:
            self._emit_many(lines)
            return
        for line in lines:
            self._emit_one(line)

    def close(self) -> None:
        """End of stream: emit what is left (a last line without a newline)."""
        if self._closed:
            return
        text = self._pending + self._decoder.decode(b"", final=True)
        self._pending = ""
        self._closed = True
        if text.endswith("\r"):
            text = text[:-1]
        if text:  # feed() leaves no newline behind, only an unfinished line
            self._deliver(self._pieces(text))


def _last_redraw(line: str) -> str:
    """What a terminal shows for a line with carriage returns: its last non-empty segment."""
    if "\r" not in line:
        return line
    return next((seg for seg in reversed(line.split("\r")) if seg), "")


async def run_command(
    command: str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    on_line: LineCallback,
    on_lines: LinesCallback | None = None,
    timeout: float | None = None,
    timeout_reason: str | None = None,
    strict: bool = False,
) -> CommandResult:
    """Run ``command`` with the shell in its own process group, streaming lines to ``on_line``.

    stdout is a pseudo-terminal (line-buffered programs and colours behave as on a
    terminal; it is not the controlling terminal), stderr a pipe, stdin /dev/null.
    With ``strict`` the shell runs ``-e -o pipefail`` (see :func:`shell_argv`) and
    the result names the failing line. With ``on_lines`` the output arrives in
    batches (the lines of one slice of a read) and ``on_line`` gets only the
    ``info`` lines about stopping.

    On timeout the group is stopped and the result says so; on cancellation the
    group is stopped (SIGINT, SIGTERM, SIGKILL) and ``CancelledError`` re-raised.
    ``timeout_reason`` is what the info line says when the time is up (a watch ending).
    """
    from ._process import run_on_pty  # asyncio's protocols: when a command runs, not when a runbook loads

    problem = _cwd_problem(cwd)
    if problem is not None:
        return CommandResult(error=problem)
    import tempfile  # where it is used: loading a runbook imports this module

    with tempfile.TemporaryDirectory(prefix="runbook-tui-shell-") as folder:  # 0700, ours alone
        argv, extra = shell_argv(command, Path(folder) if strict else None)
        result = await run_on_pty(
            argv,
            cwd=cwd,
            env={**env, **PTY_ENV, "TERM": env.get("TERM") or "xterm-256color", **extra},
            on_line=on_line,
            on_lines=on_lines,
            timeout=timeout,
            timeout_reason=timeout_reason,
        )
        report = Path(folder) / "report"
        if strict and result.exit_code not in (None, 0) and not result.timed_out and report.exists():
            return _with_failed_line(result, report.read_text(errors="replace"), command)
        return result


# The ERR trap of strict shell steps, sourced through BASH_ENV (so the command's own
# lines keep their numbers, in our report and in bash's messages alike). It runs where
# -e would stop the shell and writes one record to the report file (a channel of its
# own, never the step's stderr):
# "E rc pipestatus line subshell command" for a failure. A pipeline whose only
# failures are SIGPIPE (``yes | head -5``: the consumer stopped reading) is no failure:
# -e is suspended for that one command ("P") and back on at the next simple command
# (from a DEBUG trap). While suspended, a real failure exits by itself: the
# DEBUG trap does not fire in the shell for a pipeline, so -e may still be off.
_PRELUDE = r"""unset BASH_ENV  # the step's own scripts must not source this again
__rbt_err() {
  local rc=$? ps="${PIPESTATUS[*]}"
  [[ $- == *e* || -n $__rbt_held ]] || return 1
  if [[ $rc == SIGPIPE_STATUS && " $ps " =~ ^(\ (0|SIGPIPE_STATUS))+\ $ ]]; then
    printf 'P\n' >>REPORT; return 0
  fi
  printf 'E\t%s\t%s\t%s\t%s\t%s\n' "$rc" "$ps" "${BASH_LINENO[0]}" "$BASH_SUBSHELL" \
    "${BASH_COMMAND//[$'\t\n']/ }" >>REPORT
  [[ -z $__rbt_held ]] || exit "$rc"
  return 1
}
__rbt_rearm() { trap - DEBUG; __rbt_held=; set -e; }
trap '__rbt_err && { trap - DEBUG; set +e; __rbt_held=1; trap __rbt_rearm DEBUG; }' ERR
"""


def shell_argv(command: str, folder: Path | None) -> tuple[list[str], dict[str, str]]:
    """The shell's argv and extra environment: ``bash -E -e -o pipefail -O inherit_errexit -c``.

    GitHub Actions runs ``shell: bash`` as ``bash -e -o pipefail``; -E hands the ERR
    trap to functions and subshells, inherit_errexit makes a failure inside
    ``$(...)`` count. The trap is written to ``folder`` and reports there. Without
    ``folder`` (``strict: false``) it is plain ``bash -c``.
    """
    if folder is None:
        return [SHELL, "-c", command], {}
    if not SHELL.endswith("bash"):
        return [SHELL, "-e", "-c", command], {}  # a plain sh has no pipefail or ERR trap to rely on
    report = shlex.quote(str(folder / "report"))
    prelude = folder / "prelude.sh"
    prelude.write_text(_PRELUDE.replace("REPORT", report).replace("SIGPIPE_STATUS", str(SIGPIPE_STATUS)))
    argv = [SHELL, "-E", "-e", "-o", "pipefail", "-O", "inherit_errexit", "-c", command]
    return argv, {"BASH_ENV": str(prelude)}


def _with_failed_line(result: CommandResult, report: str, command: str) -> CommandResult:
    """The result with the failing line named, or passed when SIGPIPE was the last thing that happened."""
    records = [line.split("\t") for line in report.splitlines() if line]
    if result.exit_code == SIGPIPE_STATUS and records and records[-1][0] == "P":
        # Nothing failed after it: the shell ended with the status of its last pipeline.
        return dataclasses.replace(result, exit_code=0)
    errors = [(i, r) for i, r in enumerate(records) if r[0] == "E" and len(r) == 6]
    if not errors:
        return result
    where, last = errors[-1]
    site = _site(last, command)
    if len(errors) > 1:
        before, inner = errors[-2]
        # The failure began in a subshell (``x=$(false)``): name that line too.
        if before == where - 1 and _int(inner[4]) > _int(last[4]) and inner[5] != last[5]:
            site += f"; inside it, {_site(inner, command)}"
    return dataclasses.replace(result, failed_at=site)


def _site(record: list[str], command: str) -> str:
    """``line 3: missing-command | head -5 (pipeline statuses 127 0)``."""
    _, _rc, statuses, line, _sub, running = record
    number = _int(line)
    lines = command.splitlines()
    text = lines[number - 1].strip() if 1 <= number <= len(lines) else ""
    text = text or running
    if running and running not in text:
        text += f" (running {running})"
    if len(text) > MAX_SHOWN:
        text = text[: MAX_SHOWN - 1] + "…"
    pipeline = f" (pipeline statuses {statuses})" if " " in statuses else ""
    return f"line {number}: {text}{pipeline}"


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0


def _cwd_problem(cwd: Path) -> str | None:
    if not cwd.exists():
        return f"working directory {cwd} does not exist; create it or fix the step's cwd"
    if not cwd.is_dir():
        return f"working directory {cwd} is not a directory; fix the step's cwd"
    return None


async def stop_group(pid: int, exited: asyncio.Event, on_line: LineCallback, reason: str) -> None:
    """SIGINT the group, then SIGTERM, then SIGKILL, each after a grace; return when it is gone."""
    for sig, wait in ((signal.SIGINT, STOP_WAIT), (signal.SIGTERM, STOP_WAIT), (signal.SIGKILL, KILL_WAIT)):
        if exited.is_set() and not group_alive(pid):
            return
        if _signal_group(pid, sig):
            on_line(f"{reason}: sent {sig.name} to the process group", "info")
        if await _wait_gone(pid, exited, wait):
            return


def _signal_group(pid: int, sig: signal.Signals) -> bool:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process of the group ``pgid`` still exists."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # Zombies still count for kill(); where nobody reaps orphans (a container whose
    # PID 1 is not an init) they would make a dead group look alive forever.
    return _live_member(pgid) if _PROC.is_dir() else True


_PROC = Path("/proc")


def _live_member(pgid: int) -> bool:
    for entry in os.scandir(_PROC):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue  # it ended while we looked
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


async def _wait_gone(pid: int, exited: asyncio.Event, limit: float) -> bool:
    import asyncio  # loaded by now (this runs in its loop); bound here, not at the top (see run_command)

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if exited.is_set() and not group_alive(pid):
            return True
        await asyncio.sleep(_POLL)
    return exited.is_set() and not group_alive(pid)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def step_cwd(ctx: StepContext, cwd: str | None) -> Path:
    """The working directory of a step: the runbook's workdir, or ``cwd`` inside it."""
    return ctx.workdir / cwd if cwd else ctx.workdir


def step_env(ctx: StepContext, extra: Mapping[str, str]) -> dict[str, str]:
    """The context's environment with the step's own variables on top."""
    return {**ctx.env, **extra}


class ShellRunner(StepRunner):
    """Runs a shell step; passes when the exit status is the one expected."""

    kind = StepKind.SHELL

    async def run(self, step: Step, ctx: StepContext) -> StepOutcome:
        from ..events import StepStatus  # the event classes load when a step runs, not with a runbook

        spec = step.spec
        if not isinstance(spec, ShellSpec):
            return StepOutcome.failed(f"step {step.id} is not a shell step")
        result = await run_command(
            spec.command,
            cwd=step_cwd(ctx, spec.cwd),
            env=step_env(ctx, spec.env),
            on_line=ctx.output,
            on_lines=ctx.output_lines,
            timeout=step.timeout,
            strict=spec.strict,
        )
        message = result.describe(step.timeout)
        data = {"elapsed": round(result.elapsed, 3)}
        if result.error is None and not result.timed_out and result.exit_code == spec.expect_exit:
            return StepOutcome(StepStatus.PASSED, message, exit_code=result.exit_code, data=data)
        if result.exit_code is not None and not result.timed_out and spec.expect_exit != 0:
            message += f" (expected {spec.expect_exit})"
        return StepOutcome(StepStatus.FAILED, message, exit_code=result.exit_code, data=data)

    def describe(self, step: Step) -> str:
        spec = step.spec
        if not isinstance(spec, ShellSpec):
            return step.title
        where = f" (in {shlex.quote(spec.cwd)})" if spec.cwd else ""
        return f"run{NOT_STRICT if not spec.strict else ''}: {spec.command}{where}"


KIND = KindDef(
    spec=ShellSpec,
    keys=frozenset({"command", "cwd", "env", "expect_exit", "strict"}),
    required=("command",),
    read=read,
    describe=describe,
    runner=ShellRunner,
    fleet=True,
    shell=True,
)
