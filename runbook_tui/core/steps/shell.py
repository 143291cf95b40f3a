"""Shell steps: a command in its own process group, its output streamed line by line.

``run_command`` is the reusable part (watch steps and parameter choices use it too):
it starts bash (``-e -o pipefail`` for strict steps) with stdout on a pseudo-terminal
and stderr on a pipe, hands every line to a callback as it arrives, and on timeout or
cancellation stops the whole group with SIGINT, then SIGTERM, then SIGKILL. Output is
never accumulated, so memory stays flat however much a command prints.
"""

from __future__ import annotations

import array
import asyncio
import codecs
import contextlib
import dataclasses
import fcntl
import os
import shlex
import signal
import struct
import subprocess
import tempfile
import termios
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..durations import format_seconds
from ..model import Step, StepKind
from .base import KindDef, StepContext, StepOutcome, StepRunner, frozen_map

if TYPE_CHECKING:
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


class _CommandProtocol(asyncio.SubprocessProtocol):
    """Feeds pipe data to line splitters a slice at a time and notes when the process exits.

    One pipe read can be 64 KiB (~9,000 short lines); handing all of it on in one
    callback would hold the event loop for hundreds of milliseconds. So at most
    ``SLICE`` bytes are split and delivered per loop iteration: while a backlog
    is left the pipe is paused (the kernel buffer pushes back on the writer), the
    rest continues with ``call_soon``, and reading resumes once it is done. Reads
    and end-of-file marks go through one queue, so lines keep their order.
    """

    def __init__(self, on_lines: LinesCallback) -> None:
        self.exited = asyncio.Event()
        self.pipes_done = asyncio.Event()
        self.settled = asyncio.Event()  # all the process wrote before it exited is delivered
        self.callback_error: BaseException | None = None
        self._on_lines = on_lines
        self._open = {1, 2}
        self._splitters = {
            1: LineSplitter(_never, emit_many=lambda lines: self._deliver(lines, "stdout")),
            2: LineSplitter(_never, emit_many=lambda lines: self._deliver(lines, "stderr")),
        }
        self._transport: asyncio.SubprocessTransport | None = None
        self.pty: _PtyReader | None = None  # stdout's reader: the pty's master side
        self._queue: deque[tuple[int, bytes | None]] = deque()  # (fd, data); None = end of file
        self._paused: set[int] = set()
        self._scheduled = False
        self._owed: dict[int, int] | None = None  # bytes left in each pipe when the process exited
        self._finished = False
        self.progress = 0  # bumped by every read and every slice delivered

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.SubprocessTransport)
        self._transport = transport

    def _deliver(self, lines: list[str], stream: str) -> None:
        if self.callback_error is not None:
            return
        try:
            self._on_lines(lines, stream)
        except Exception as exc:  # surfaced by run_command once the process is stopped
            self.callback_error = exc

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        if fd not in self._splitters or self._finished:
            return
        if fd == 2 and self.pty is not None:
            # stdout written before this stderr may wait in the pty (its reader's turn
            # comes later in this loop iteration): deliver it first, so lines keep the
            # order the program wrote them in.
            self.pty.read_now()
        chunk = data if isinstance(data, bytes) else data.encode()
        self.progress += 1
        if self._owed is not None and fd in self._owed:
            self._owed[fd] -= len(chunk)
        if not self._queue and len(chunk) <= SLICE:
            self._splitters[fd].feed(chunk)  # the common small read: no queue, no pause
            self._check_settled()
            return
        self._queue.append((fd, chunk))
        self._pause(fd)
        if not self._scheduled:
            self._pump()

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if self._queue:
            self._queue.append((fd, None))  # after the data still waiting
        else:
            self.close_pipe(fd)

    def _pump(self) -> None:
        """Split and deliver up to ``SLICE`` bytes; come back later for the rest."""
        self._scheduled = False
        self.progress += 1
        budget = SLICE
        queue = self._queue
        while queue and budget > 0:
            fd, data = queue[0]
            if data is None:
                queue.popleft()
                self.close_pipe(fd)
                continue
            if len(data) > budget:
                queue[0] = (fd, data[budget:])
                data = data[:budget]
            else:
                queue.popleft()
            budget -= len(data)
            self._splitters[fd].feed(data)
        if queue and not self._finished:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._pump)
            return
        self._resume()
        self._check_settled()

    def _pause(self, fd: int) -> None:
        pipe = self._pipe(fd)
        if pipe is not None and fd not in self._paused:
            pipe.pause_reading()
            self._paused.add(fd)

    def _resume(self) -> None:
        for fd in self._paused:
            pipe = self._pipe(fd)
            if pipe is not None:
                pipe.resume_reading()
        self._paused.clear()

    def _pipe(self, fd: int) -> asyncio.ReadTransport | None:
        if fd == 1 and self.pty is not None:
            return self.pty
        pipe = self._transport.get_pipe_transport(fd) if self._transport is not None else None
        return pipe if isinstance(pipe, asyncio.ReadTransport) else None

    def close_readers(self) -> None:
        """Stop reading stdout and stderr (a background child may hold them open for ever)."""
        for fd in (1, 2):
            pipe = self._pipe(fd)
            if pipe is not None:
                pipe.close()

    def close_pipe(self, fd: int) -> None:
        if fd in self._splitters:
            self._splitters[fd].close()
        self._open.discard(fd)
        if not self._open:
            self.pipes_done.set()
            self.settled.set()

    def finish(self) -> None:
        """Deliver whatever is queued now and close every pipe's splitter: nothing arrives later."""
        if self._finished:
            return
        while self._queue:
            fd, data = self._queue.popleft()
            if data is None:
                self.close_pipe(fd)
            else:
                self._splitters[fd].feed(data)
        for fd in list(self._open):
            self.close_pipe(fd)
        self._finished = True

    def process_exited(self) -> None:
        # What the process wrote before exiting is in our queue or still in the pipes.
        self._owed = {fd: _unread_bytes(self._pipe(fd)) for fd in self._open}
        self.exited.set()
        self._check_settled()

    def _check_settled(self) -> None:
        owed = self._owed
        if owed is not None and not self._queue and all(n <= 0 for n in owed.values()):
            self.settled.set()


class _PtyReader(asyncio.ReadTransport):
    """Reads the pty's master side for the command protocol, as if it were the stdout pipe.

    A pty hands over at most 4 KiB per read; one readiness callback reads on until
    ``PTY_READ`` bytes or nothing is left, so a flood arrives in chunks as large as
    a pipe's (and goes through the same slicing and pausing). When the last holder
    of the terminal side closes it, reading the master fails with EIO instead of
    returning end of file: that EIO is this stream's end.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, fd: int, protocol: _CommandProtocol) -> None:
        super().__init__()
        self._loop = loop
        self._fd = fd
        self._protocol = protocol
        self._paused = False
        self._closed = False
        os.set_blocking(fd, False)
        loop.add_reader(fd, self._ready)

    def fileno(self) -> int:
        return self._fd

    def get_extra_info(self, name: str, default: object = None) -> object:
        return self if name == "pipe" else default  # _unread_bytes asks the fd for FIONREAD

    def _ready(self) -> None:
        chunks: list[bytes] = []
        size, ended = 0, False
        while size < PTY_READ:
            try:
                data = os.read(self._fd, PTY_READ)
            except BlockingIOError:
                break
            except OSError:  # EIO: every writer has closed the terminal side
                ended = True
                break
            if not data:
                ended = True
                break
            chunks.append(data)
            size += len(data)
        if chunks:
            self._protocol.pipe_data_received(1, chunks[0] if len(chunks) == 1 else b"".join(chunks))
        if ended:
            self.close()

    def read_now(self) -> None:
        """Read what is waiting now (unless paused or closed), as if the loop said it is ready."""
        if self.is_reading():
            self._ready()

    def is_reading(self) -> bool:
        return not self._paused and not self._closed

    def pause_reading(self) -> None:
        if self.is_reading():
            self._loop.remove_reader(self._fd)
            self._paused = True

    def resume_reading(self) -> None:
        if self._paused and not self._closed:
            self._paused = False
            self._loop.add_reader(self._fd, self._ready)

    def is_closing(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop reading, close the master, and tell the protocol stdout has ended (once)."""
        if self._closed:
            return
        self._closed = True
        self._loop.remove_reader(self._fd)
        os.close(self._fd)
        self._protocol.pipe_connection_lost(1, None)


def _open_pty() -> tuple[int, int]:
    """A pty whose terminal side passes output as written (no CRLF) and is wide."""
    master, slave = os.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.OPOST  # no output processing: "\n" stays "\n", never "\r\n"
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", PTY_ROWS, PTY_COLUMNS, 0, 0))
    return master, slave


def _never(_line: str) -> None:  # the splitters above deliver lists
    raise AssertionError("unreachable")


def _unread_bytes(pipe: asyncio.ReadTransport | None) -> int:
    """Bytes waiting in a pipe that nobody has read yet (0 when it cannot be told)."""
    handle = pipe.get_extra_info("pipe") if pipe is not None else None
    if handle is None:
        return 0
    try:
        buf = array.array("i", [0])
        fcntl.ioctl(handle.fileno(), termios.FIONREAD, buf, True)
    except (OSError, ValueError):
        return 0
    return buf[0]


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
    problem = _cwd_problem(cwd)
    if problem is not None:
        return CommandResult(error=problem)
    with tempfile.TemporaryDirectory(prefix="runbook-tui-shell-") as folder:  # 0700, ours alone
        argv, extra = shell_argv(command, Path(folder) if strict else None)
        result = await _run_on_pty(
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


async def _run_on_pty(
    argv: list[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    on_line: LineCallback,
    on_lines: LinesCallback | None,
    timeout: float | None,
    timeout_reason: str | None,
) -> CommandResult:
    started = time.monotonic()
    loop = asyncio.get_running_loop()
    protocol = _CommandProtocol(on_lines or _one_by_one(on_line))
    master, slave = _open_pty()
    # Read the master before the child starts: nothing it writes can race the reader.
    reader = _PtyReader(loop, master, protocol)
    protocol.pty = reader
    reader.pause_reading()  # until the spawn is done: output must not outrun it (a cancel then has a pid)
    try:
        transport, _ = await loop.subprocess_exec(
            lambda: protocol,
            *argv,
            stdin=subprocess.DEVNULL,
            stdout=slave,
            stderr=subprocess.PIPE,
            cwd=str(cwd),
            env=dict(env),
            start_new_session=True,  # a new session without a controlling terminal
        )
    except OSError as exc:
        reader.close()
        return CommandResult(error=f"could not start {SHELL}: {exc.strerror or exc}")
    except BaseException:  # cancelled while starting: nothing of ours stays open
        reader.close()
        raise
    finally:
        os.close(slave)  # only the child holds it now: its end is our end of file (EIO)
    reader.resume_reading()
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
        await _drain(protocol)
    finally:
        if not protocol.exited.is_set():
            _signal_group(pid, signal.SIGKILL)  # a second cancel during the stop: no survivors
        protocol.finish()  # what was read is delivered now, never after we return
        protocol.close_readers()
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


def _one_by_one(on_line: LineCallback) -> LinesCallback:
    def each(lines: list[str], stream: str) -> None:
        for line in lines:
            on_line(line, stream)

    return each


async def _drain(protocol: _CommandProtocol) -> None:
    """Deliver all the process wrote; a background child still holding the pipes does not hold the step.

    The grace counts from the last data: while what the process wrote before it
    exited is still being read or delivered the wait goes on, however long.
    """
    progress = -1
    while not protocol.settled.is_set() and protocol.progress != progress:
        progress = protocol.progress
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(protocol.settled.wait(), PIPE_GRACE)
    try:
        await asyncio.wait_for(protocol.pipes_done.wait(), PIPE_GRACE)
    except TimeoutError:
        protocol.finish()
        protocol.close_readers()


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
