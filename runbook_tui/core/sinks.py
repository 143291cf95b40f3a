"""A copy of the journal that leaves the machine (issue 17): syslog and HTTP sinks.

``config.toml`` names the sinks::

    [[sinks]]
    type = "syslog"
    address = "tcp://logs.example:6514"   # unix:///dev/log, tcp://host:port, udp://host:port

    [[sinks]]
    type = "http"
    url = "http://127.0.0.1:8080/events"   # POSTed JSON lines, batched

Every line the journal writes (sealed, so the copy carries the chain hashes) is handed
to each sink's worker thread with a deque append: the writer never waits on a network.
The worker sends in order; when the sink is down it writes what it could not send to a
spool file in the data folder (``sinks/<name>/<session>.spool``) and retries with
backoff, sending the spool first so the order holds. At the end a healthy sink gets a
moment to finish; a down one leaves its spool, which the next session's worker for the
same sink sends (spools whose owner is gone are adopted, one worker at a time by
``flock``). UDP is best effort: a datagram lost on the way is not known, and said so.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .. import locations
from .errors import RunbookTuiError
from .journal.records import parse_line

APP_NAME = "runbook-tui"
SD_ID = "runbook-tui@32473"  # 32473: the example enterprise number RFC 5612 reserves for documentation
BATCH_LINES = 500
FINAL_WAIT_SECONDS = 2.0  # at close, how long a healthy sink may take to finish


class SinkError(RunbookTuiError):
    """A sink in config.toml is not usable as written."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class SinkConfig:
    """One ``[[sinks]]`` table."""

    name: str  # unique, from the table or built from its address
    type: str  # "syslog" or "http"
    address: str  # unix:///dev/log, tcp://host:port, udp://host:port, or the http(s) URL
    timeout: float = 3.0
    retry_max: float = 30.0  # the longest wait between retries
    facility: int = 16  # local0

    @property
    def best_effort(self) -> bool:
        return self.address.startswith("udp://")


def parse_sinks(tables: Iterable[dict[str, Any]], where: str = "config.toml") -> list[SinkConfig]:
    """The sinks of ``config.toml``; a bad one is a :class:`SinkError` naming it and the fix."""
    out: list[SinkConfig] = []
    for n, table in enumerate(tables, start=1):
        kind = table.get("type")
        address = table.get("url") if kind == "http" else table.get("address")
        if kind not in ("syslog", "http") or not isinstance(address, str) or not address:
            raise SinkError(
                f'{where}: sink {n}: give type = "syslog" with address = "tcp://host:port" '
                '(or unix:///dev/log, udp://host:port), or type = "http" with url = "http://host/path"'
            )
        scheme = urlsplit(address).scheme
        allowed = ("unix", "tcp", "udp") if kind == "syslog" else ("http", "https")
        if scheme not in allowed:
            raise SinkError(
                f"{where}: sink {n}: {address!r}: the address must start with {'/'.join(allowed)}://"
            )
        name = str(table.get("name") or f"{kind}-{n}")
        out.append(
            SinkConfig(
                name=name,
                type=str(kind),
                address=address,
                timeout=float(table.get("timeout", 3.0)),
                retry_max=float(table.get("retry_max_seconds", 30.0)),
                facility=int(table.get("facility", 16)),
            )
        )
    return out


def configured() -> list[SinkConfig]:
    """The sinks ``config.toml`` names (none when it names none)."""
    from ..config import load_config

    config = load_config()
    return parse_sinks(config.sinks, str(config.path or "config.toml")) if config.sinks else []


# --- transports ------------------------------------------------------------------


class _Transport:
    def send(self, lines: list[bytes], session_id: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Drop the connection (the next send opens a new one)."""


class _Syslog(_Transport):
    """RFC 5424 messages; TCP framed by octet counting (RFC 6587), one datagram each otherwise."""

    def __init__(self, config: SinkConfig) -> None:
        self.config = config
        self.parts = urlsplit(config.address)
        self.sock: socket.socket | None = None
        self.host = socket.gethostname()[:255] or "-"

    def _connect(self) -> socket.socket:
        scheme, timeout = self.parts.scheme, self.config.timeout
        if scheme == "tcp":
            sock = socket.create_connection(
                (self.parts.hostname or "", self.parts.port or 601), timeout=timeout
            )
        elif scheme == "udp":
            sock = socket.socket(
                socket.AF_INET6 if ":" in (self.parts.hostname or "") else socket.AF_INET, socket.SOCK_DGRAM
            )
            sock.connect((self.parts.hostname or "", self.parts.port or 514))
        else:
            path = self.parts.path or "/dev/log"
            try:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                sock.connect(path)
            except OSError:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(timeout)
                sock.connect(path)
        sock.settimeout(timeout)
        return sock

    def message(self, line: bytes, session_id: str) -> bytes:
        """One RFC 5424 message: the journal line is the MSG, the session id structured data."""
        record = parse_line(line)
        kind = str(record.get("kind", "header"))[:32] if record is not None else "unreadable"
        msgid = "".join(c if 33 <= ord(c) <= 126 else "_" for c in kind) or "-"
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        sid = session_id.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")
        pri = self.config.facility * 8 + 6  # informational
        head = f'<{pri}>1 {stamp} {self.host} {APP_NAME} {os.getpid()} {msgid} [{SD_ID} session="{sid}"] '
        return head.encode("utf-8") + line

    def send(self, lines: list[bytes], session_id: str) -> None:
        if self.sock is not None and self.sock.type == socket.SOCK_STREAM and _peer_closed(self.sock):
            self.close()  # a collector never writes to us: readable means it hung up; reconnect
        if self.sock is None:
            self.sock = self._connect()
        messages = [self.message(line, session_id) for line in lines]
        if self.parts.scheme == "tcp" or self.sock.type == socket.SOCK_STREAM:
            self.sock.sendall(b"".join(b"%d %s" % (len(m), m) for m in messages))
        else:
            for m in messages:
                self.sock.send(m)

    def close(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.close()
            self.sock = None


def _peer_closed(sock: socket.socket) -> bool:
    """The other end closed or reset the stream (so a send would vanish into its buffer)."""
    readable, _w, _x = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


class _Http(_Transport):
    """POST ``application/x-ndjson``: one ``{"session_id": ..., "event": <journal line>}`` a line."""

    def __init__(self, config: SinkConfig) -> None:
        self.config = config

    def send(self, lines: list[bytes], session_id: str) -> None:
        sid = json.dumps(session_id).encode()
        body = b"".join(b'{"session_id":%s,"event":%s}\n' % (sid, line) for line in lines)
        request = urllib.request.Request(
            self.config.address, data=body, method="POST", headers={"Content-Type": "application/x-ndjson"}
        )
        with urllib.request.urlopen(request, timeout=self.config.timeout) as reply:
            if not 200 <= reply.status < 300:
                raise OSError(f"HTTP {reply.status}")


def _transport(config: SinkConfig) -> _Transport:
    return _Syslog(config) if config.type == "syslog" else _Http(config)


# --- the worker --------------------------------------------------------------------


def spool_dir(config: SinkConfig) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in config.name)
    return locations.data_dir() / "sinks" / safe


class SinkWorker:
    """Sends one journal's lines to one sink, in order, off the writer's thread."""

    def __init__(self, config: SinkConfig, session_id: str) -> None:
        self.config = config
        self.session_id = session_id
        self.transport = _transport(config)
        self._queue: deque[bytes] = deque()
        self._wake = threading.Event()
        self._stopping = False
        self._lock = threading.Lock()
        self.sent = 0
        self.queued_on_disk = 0
        self.last_error = ""
        self.down_since: float | None = None
        folder = spool_dir(config)
        folder.mkdir(parents=True, exist_ok=True)
        self.spool = folder / f"{session_id}.spool"
        self._spool_fd = os.open(self.spool, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        fcntl.flock(self._spool_fd, fcntl.LOCK_EX)  # ours while this session runs
        self._thread = threading.Thread(target=self._run, name=f"sink-{config.name}", daemon=True)
        self._thread.start()

    # --- the writer's side (never blocks) ---

    def put(self, block: bytes) -> None:
        """Hand over whole journal lines (one block as written)."""
        self._queue.append(block)
        self._wake.set()

    @property
    def state(self) -> str:
        """``ok``, ``down (N waiting)`` or ``sending N``: for the app's header."""
        waiting = self.queued_on_disk + sum(b.count(b"\n") for b in list(self._queue))
        if self.down_since is not None:
            return f"down, {waiting} waiting"
        return "ok" if waiting == 0 else f"sending {waiting}"

    def close(self, wait: float = FINAL_WAIT_SECONDS) -> None:
        """Stop: a healthy sink gets ``wait`` seconds to finish; what is left stays spooled on disk."""
        self._stopping = True
        self._wake.set()
        self._thread.join(wait if self.down_since is None else 0.2)
        with self._lock:
            rest = list(self._queue)
            self._queue.clear()
            if rest:
                self._spill(b"".join(rest))
            os.close(self._spool_fd)
            self._spool_fd = -1
        if self.spool.exists() and self.spool.stat().st_size == 0:
            with contextlib.suppress(OSError):
                self.spool.unlink()

    # --- the thread ---

    def _run(self) -> None:
        backoff = 0.2
        while True:
            self._wake.wait(timeout=backoff if self.down_since is not None else 1.0)
            self._wake.clear()
            with self._lock:
                if self._spool_fd < 0:
                    return
                try:
                    self._adopt_orphans()
                    self._send_spool()
                    self._send_queue()
                except OSError as exc:
                    self.transport.close()
                    self.last_error = str(exc)
                    if self.down_since is None:
                        self.down_since = time.time()
                    backoff = min(self.config.retry_max, backoff * 2)
                    continue
                self.down_since = None
                backoff = 0.2
            if self._stopping and not self._queue:
                return

    def _send_queue(self) -> None:
        while self._queue:
            block = self._queue.popleft()
            try:
                self._send_lines(block)
            except OSError:
                self._spill(block)
                while self._queue:  # one at a time: the writer may append meanwhile
                    self._spill(self._queue.popleft())
                raise

    def _send_lines(self, block: bytes) -> None:
        lines = block.split(b"\n")[:-1]
        for start in range(0, len(lines), BATCH_LINES):
            part = lines[start : start + BATCH_LINES]
            self.transport.send(part, self.session_id)
            self.sent += len(part)

    def _spill(self, data: bytes) -> None:
        os.write(self._spool_fd, data)
        self.queued_on_disk += data.count(b"\n")

    def _send_spool(self) -> None:
        """Send what waits on disk, first; the spool is emptied only when all of it went."""
        if self.queued_on_disk == 0 and os.fstat(self._spool_fd).st_size == 0:
            return
        self._send_file(self._spool_fd, self.session_id)
        os.ftruncate(self._spool_fd, 0)
        self.queued_on_disk = 0

    def _send_file(self, fd: int, session_id: str) -> None:
        with open(os.dup(fd), "rb") as handle:
            handle.seek(0)
            batch: list[bytes] = []
            for raw in handle:
                if raw.endswith(b"\n"):
                    batch.append(raw[:-1])
                if len(batch) >= BATCH_LINES:
                    self.transport.send(batch, session_id)
                    self.sent += len(batch)
                    batch = []
            if batch:
                self.transport.send(batch, session_id)
                self.sent += len(batch)

    def _adopt_orphans(self) -> None:
        """Send spools left by sessions whose process is gone (nobody holds their lock)."""
        for other in sorted(spool_dir(self.config).glob("*.spool")):
            if other == self.spool:
                continue
            try:
                fd = os.open(other, os.O_RDWR)
            except FileNotFoundError:
                continue
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its session still runs: it sends its own
                self._send_file(fd, other.stem)
                other.unlink()
            finally:
                os.close(fd)


class Tee:
    """Every sink's worker for one journal; the journal calls :meth:`put` with what it writes."""

    def __init__(self, workers: list[SinkWorker]) -> None:
        self.workers = workers

    def put(self, block: bytes) -> None:
        for worker in self.workers:
            worker.put(block)

    def close(self) -> None:
        for worker in self.workers:
            worker.close()


_live: list[SinkWorker] = []  # every worker of this process, for the app's header


def tee_for(session_id: str) -> Tee | None:
    """The sinks' tee for a journal (None when config.toml names no sink)."""
    configs = configured()
    if not configs:
        return None
    workers = [SinkWorker(c, session_id) for c in configs]
    _live[:] = [w for w in _live if w._spool_fd >= 0] + workers
    return Tee(workers)


def status() -> list[tuple[str, str]]:
    """``(sink name, state)`` of this process's open sinks, for the app's header."""
    return [
        (w.config.name + (" (udp, best effort)" if w.config.best_effort else ""), w.state)
        for w in _live
        if w._spool_fd >= 0
    ]
