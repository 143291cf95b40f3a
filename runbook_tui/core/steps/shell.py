"""Shell steps: a command in its own process group, its output streamed line by line.

``run_command`` is the reusable part (docker, git and parameter choices use it too):
it starts ``bash -c`` (or ``sh -c``), hands every stdout/stderr line to a callback as
it arrives, and on timeout or cancellation stops the whole group with SIGINT, then
SIGTERM, then SIGKILL. Output is never accumulated, so memory stays flat however
much a command prints.
"""

from __future__ import annotations

import asyncio
import codecs
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..durations import format_seconds
from ..events import StepStatus
from ..model import ShellSpec, Step, StepKind
from .base import StepContext, StepOutcome, StepRunner

LineCallback = Callable[[str, str], None]
"""``on_line(text, stream)``; stream is ``stdout``, ``stderr`` or ``info``."""

SHELL = "/bin/bash" if os.path.exists("/bin/bash") else "/bin/sh"
MAX_LINE = 64 * 1024  # longer lines are split so one huge line cannot exhaust memory
PIPE_GRACE = 0.5  # how long to keep reading after the process exits (background children)
STOP_WAIT = 2.0  # how long each of SIGINT and SIGTERM gets before the next signal
KILL_WAIT = 5.0  # after SIGKILL, how long to wait for the group to disappear
_POLL = 0.02


@dataclass(frozen=True, slots=True)
class CommandResult:
    """How a command ended: its exit status, the signal that killed it, or why it never ran."""

    exit_code: int | None = None
    signal: str | None = None  # e.g. "SIGTERM" when a signal ended it
    timed_out: bool = False
    error: str | None = None  # it could not start: missing directory, no shell
    elapsed: float = 0.0
    pid: int | None = None  # also the process group id

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and self.error is None

    def describe(self, timeout: float | None = None) -> str:
        """``exited with status 3``, ``killed by SIGTERM``, ``timed out after 5m``, or the error."""
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
    seen live without flooding the log.
    """

    def __init__(self, emit: Callable[[str], None], max_line: int = MAX_LINE) -> None:
        self._emit = emit
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
        for line in lines:
            self._emit_bounded(_last_redraw(line[:-1] if line.endswith("\r") else line))
        if "\r" in rest:
            *done, rest = rest.split("\r")
            latest = next((seg for seg in reversed(done) if seg), None)
            if latest is not None:
                self._emit_bounded(latest)
        while len(rest) >= self._max:
            self._emit(rest[: self._max])
            rest = rest[self._max :]
        self._pending = rest + hold

    def _emit_bounded(self, line: str) -> None:
        # A line completed by this chunk may carry a held-back part from earlier chunks.
        while len(line) > self._max:
            self._emit(line[: self._max])
            line = line[self._max :]
        self._emit(line)

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
            self._emit_bounded(text)


def _last_redraw(line: str) -> str:
    """What a terminal shows for a line with carriage returns: its last non-empty segment."""
    if "\r" not in line:
        return line
    return next((seg for seg in reversed(line.split("\r")) if seg), "")


class _CommandProtocol(asyncio.SubprocessProtocol):
    """Feeds pipe data to line splitters as it arrives and notes when the process exits."""

    def __init__(self, on_line: LineCallback) -> None:
        self.exited = asyncio.Event()
        self.pipes_done = asyncio.Event()
        self.callback_error: BaseException | None = None
        self._on_line = on_line
        self._open = {1, 2}
        self._splitters = {
            1: LineSplitter(lambda text: self._deliver(text, "stdout")),
            2: LineSplitter(lambda text: self._deliver(text, "stderr")),
        }

    def _deliver(self, text: str, stream: str) -> None:
        if self.callback_error is not None:
            return
        try:
            self._on_line(text, stream)
        except Exception as exc:  # surfaced by run_command once the process is stopped
            self.callback_error = exc

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        if fd in self._splitters:
            self._splitters[fd].feed(data if isinstance(data, bytes) else data.encode())

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        self.close_pipe(fd)

    def close_pipe(self, fd: int) -> None:
        if fd in self._splitters:
            self._splitters[fd].close()
        self._open.discard(fd)
        if not self._open:
            self.pipes_done.set()

    def process_exited(self) -> None:
        self.exited.set()


async def run_command(
    command: str,
    *,
    cwd: Path,
    env: Mapping[str, str],
    on_line: LineCallback,
    timeout: float | None = None,
    timeout_reason: str | None = None,
) -> CommandResult:
    """Run ``command`` with the shell in its own process group, streaming lines to ``on_line``.

    On timeout the group is stopped and the result says so; on cancellation the
    group is stopped (SIGINT, SIGTERM, SIGKILL) and ``CancelledError`` re-raised.
    ``timeout_reason`` is what the info line says when the time is up (a watch ending).
    """
    started = time.monotonic()
    problem = _cwd_problem(cwd)
    if problem is not None:
        return CommandResult(error=problem)
    loop = asyncio.get_running_loop()
    try:
        transport, protocol = await loop.subprocess_exec(
            lambda: _CommandProtocol(on_line),
            SHELL,
            "-c",
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=str(cwd),
            env=dict(env),
            start_new_session=True,
        )
    except OSError as exc:
        return CommandResult(error=f"could not start {SHELL}: {exc.strerror or exc}")
    pid = transport.get_pid()
    timed_out = False
    try:
        try:
            async with asyncio.timeout(timeout):
                await protocol.exited.wait()
        except TimeoutError:
            timed_out = True
            reason = timeout_reason or f"timed out after {format_timeout(timeout or 0)}"
            await stop_group(pid, protocol.exited, on_line, reason)
        except asyncio.CancelledError:
            await stop_group(pid, protocol.exited, on_line, "cancelled")
            raise
        await _drain(transport, protocol)
    finally:
        if not protocol.exited.is_set():
            _signal_group(pid, signal.SIGKILL)  # a second cancel during the stop: no survivors
        transport.close()
    if protocol.callback_error is not None:
        raise protocol.callback_error
    code = transport.get_returncode()
    elapsed = time.monotonic() - started
    if code is not None and code < 0:
        return CommandResult(None, _signal_name(-code), timed_out, elapsed=elapsed, pid=pid)
    return CommandResult(code, None, timed_out, elapsed=elapsed, pid=pid)


def _cwd_problem(cwd: Path) -> str | None:
    if not cwd.exists():
        return f"working directory {cwd} does not exist; create it or fix the step's cwd"
    if not cwd.is_dir():
        return f"working directory {cwd} is not a directory; fix the step's cwd"
    return None


async def _drain(transport: asyncio.SubprocessTransport, protocol: _CommandProtocol) -> None:
    """Read what is left; a background child still holding the pipes does not hold the step."""
    try:
        await asyncio.wait_for(protocol.pipes_done.wait(), PIPE_GRACE)
    except TimeoutError:
        for fd in (1, 2):
            pipe = transport.get_pipe_transport(fd)
            if pipe is not None:
                pipe.close()
            protocol.close_pipe(fd)


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
        spec = step.spec
        if not isinstance(spec, ShellSpec):
            return StepOutcome.failed(f"step {step.id} is not a shell step")
        result = await run_command(
            spec.command,
            cwd=step_cwd(ctx, spec.cwd),
            env=step_env(ctx, spec.env),
            on_line=ctx.output,
            timeout=step.timeout,
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
        return f"run: {spec.command}{where}"
