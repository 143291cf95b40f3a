"""The process under a shell or watch step: a pseudo-terminal and a pipe, read as the loop allows.

Private to :func:`.shell.run_command`, which imports it when a command runs: these
classes subclass asyncio's protocol and transport, and loading a runbook (which
imports every kind module, ``shell`` among them) need not import asyncio.
"""

from __future__ import annotations

import array
import asyncio
import contextlib
import fcntl
import os
import signal
import struct
import subprocess
import termios
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path

from .shell import (
    PIPE_GRACE,
    PTY_COLUMNS,
    PTY_READ,
    PTY_ROWS,
    SHELL,
    SLICE,
    CommandResult,
    LineCallback,
    LinesCallback,
    LineSplitter,
    _signal_group,
    _signal_name,
    format_timeout,
    stop_group,
)


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


async def run_on_pty(
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
