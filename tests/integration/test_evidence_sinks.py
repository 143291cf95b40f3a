"""Sinks (issue 17): a real syslog listener (RFC 5424 over TCP, octet counting) and a real HTTP
server on 127.0.0.1 receive every journal line of a session, in order; a sink that goes away
mid-run does not stop the run, and what it missed arrives when it is back."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers.cli import cli_argv, run_cli

from runbook_tui import locations

_FRAME = re.compile(rb"(\d+) ")
_RFC5424 = re.compile(
    rb"<(\d+)>1 \S+ \S+ runbook-tui \d+ (\S+) \[runbook-tui@32473 session=\"([^\"]+)\"\] (.*)$", re.S
)

BOOK = """\
runbook: 1
id: sinky
title: Sinky
procedures:
  - id: roll
    title: Roll
    steps:
      - id: talk
        title: Talk
        kind: shell
        command: |
          for i in $(seq 1 50); do echo "before $i"; done
          echo waiting
          while [ ! -f go.flag ]; do sleep 0.05; done
          for i in $(seq 1 50); do echo "after $i"; done
          while [ ! -f go2.flag ]; do sleep 0.05; done
          echo finishing
      - id: end
        title: End
        kind: shell
        command: echo end
"""


class SyslogTcp:
    """A syslog collector on 127.0.0.1: accepts connections, splits octet-counted frames."""

    def __init__(self, port: int = 0) -> None:
        self.messages: list[bytes] = []
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", port))
        self.server.listen()
        self.port = self.server.getsockname()[1]
        self.conns: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        buffer = b""
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            buffer += data
            while (m := _FRAME.match(buffer)) and len(buffer) >= m.end() + int(m[1]):
                self.messages.append(buffer[m.end() : m.end() + int(m[1])])
                buffer = buffer[m.end() + int(m[1]) :]

    def lines(self) -> list[bytes]:
        out = []
        for message in self.messages:
            m = _RFC5424.match(message)
            assert m is not None, message
            out.append(m[4])
        return out

    def stop(self) -> None:
        # shutdown() first: close() alone leaves a socket blocked in accept() listening.
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        self.thread.join(timeout=5)
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()


class HttpSink:
    """An HTTP server on 127.0.0.1 that takes POSTed JSON lines."""

    def __init__(self) -> None:
        received: list[dict[str, object]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                received.extend(json.loads(line) for line in body.splitlines())
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _config(text: str) -> None:
    path = locations.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _until(check: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for the sink")
        time.sleep(0.05)


@pytest.fixture
def syslog() -> Iterator[SyslogTcp]:
    server = SyslogTcp()
    yield server
    server.stop()


@pytest.fixture
def http() -> Iterator[HttpSink]:
    server = HttpSink()
    yield server
    server.stop()


def _journal_lines() -> list[bytes]:
    (journal,) = locations.sessions_dir().glob("*.jsonl")
    return journal.read_bytes().splitlines()


def test_syslog_and_http_receive_every_event_in_order(
    tmp_path: Path, syslog: SyslogTcp, http: HttpSink
) -> None:
    _config(
        f'[[sinks]]\ntype = "syslog"\naddress = "tcp://127.0.0.1:{syslog.port}"\n\n'
        f'[[sinks]]\ntype = "http"\nurl = "{http.url}"\n'
    )
    book = tmp_path / "book.yaml"
    book.write_text(BOOK)
    (tmp_path / "go.flag").touch()
    (tmp_path / "go2.flag").touch()
    done = run_cli("run", str(book), "roll", "--plain", "--yes", "--workdir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = _journal_lines()
    _until(lambda: len(syslog.messages) >= len(lines) and len(http.received) >= len(lines))
    assert syslog.lines() == lines
    assert [
        json.dumps(r["event"], separators=(",", ":"), ensure_ascii=False).encode() for r in http.received
    ] == lines
    assert {r["session_id"] for r in http.received} == {json.loads(lines[0])["session_id"]}


def test_a_sink_down_mid_run_gets_what_it_missed_when_it_is_back(tmp_path: Path, syslog: SyslogTcp) -> None:
    port = syslog.port
    _config(f'[[sinks]]\ntype = "syslog"\naddress = "tcp://127.0.0.1:{port}"\nretry_max_seconds = 0.3\n')
    book = tmp_path / "book.yaml"
    book.write_text(BOOK)
    proc = subprocess.Popen(
        cli_argv("run", str(book), "roll", "--plain", "--yes", "--workdir", str(tmp_path)),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    back: SyslogTcp | None = None
    try:
        _until(lambda: any(b'"text":"waiting"' in m for m in syslog.messages))
        syslog.stop()  # the collector goes away mid-step
        (tmp_path / "go.flag").touch()  # the step goes on and ends
        spool = locations.data_dir() / "sinks" / "syslog-1"
        _until(lambda: any(p.stat().st_size for p in spool.glob("*.spool")))  # queued on disk meanwhile
        back = SyslogTcp(port)
        _until(lambda: back.messages)  # the worker retried, found it back, and sent the backlog
        (tmp_path / "go2.flag").touch()
        assert proc.wait(timeout=60) == 0
        lines = _journal_lines()
        got = syslog.lines()
        _until(lambda: len(got) + len(back.messages) >= len(lines))
        assert got + back.lines() == lines  # every line once, in order
    finally:
        proc.kill()
        proc.wait(timeout=10)
        if back is not None:
            back.stop()


def test_what_a_sink_missed_at_the_end_goes_with_the_next_session(tmp_path: Path, syslog: SyslogTcp) -> None:
    port = syslog.port
    syslog.stop()  # down for a whole run
    _config(f'[[sinks]]\ntype = "syslog"\naddress = "tcp://127.0.0.1:{port}"\nretry_max_seconds = 0.3\n')
    book = tmp_path / "book.yaml"
    book.write_text(BOOK)
    (tmp_path / "go.flag").touch()
    (tmp_path / "go2.flag").touch()
    done = run_cli("run", str(book), "roll", "--plain", "--yes", "--workdir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = _journal_lines()
    back = SyslogTcp(port)
    try:
        (journal,) = locations.sessions_dir().glob("*.jsonl")
        assert run_cli("note", journal.stem, "--text", "sink is back", cwd=tmp_path).returncode == 0
        _until(lambda: len(back.messages) >= len(lines) + 1)
        assert back.lines()[: len(lines)] == lines  # the spooled run first, in order
        assert b"sink is back" in back.lines()[-1]
    finally:
        back.stop()


def test_a_bad_sink_in_config_is_said(tmp_path: Path) -> None:
    _config('[[sinks]]\ntype = "kafka"\naddress = "x"\n')
    book = tmp_path / "book.yaml"
    book.write_text(BOOK)
    done = run_cli("run", str(book), "roll", "--plain", "--yes", "--workdir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and 'type = "syslog"' in done.stderr and "Traceback" not in done.stderr
    assert not list(locations.sessions_dir().glob("*.jsonl"))  # nothing half-made


async def test_the_header_shows_the_sink_state(tmp_path: Path, syslog: SyslogTcp) -> None:
    from helpers.ui import run_screen, until
    from helpers.ui_fixtures import entries_in, fixed_clock, write_run_runbook

    from runbook_tui.ui.app import AppOptions, RunbookApp
    from runbook_tui.ui.widgets.header import RunbookHeader

    port = syslog.port
    _config(f'[[sinks]]\ntype = "syslog"\naddress = "tcp://127.0.0.1:{port}"\nretry_max_seconds = 0.3\n')
    folder = tmp_path / "runbooks"
    write_run_runbook(folder, "http://127.0.0.1:9/health", "http://127.0.0.1:9/ok")
    app = RunbookApp(
        AppOptions(
            find_entries=lambda dirs: list(entries_in(folder)),
            clock=fixed_clock,
            probe_signals=False,
            workdir=folder,
        )
    )
    async with app.run_test(size=(100, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press(*"ui-drill", "enter")
        await pilot.pause()
        await pilot.press("down", "enter", "o")
        screen = await run_screen(pilot)
        label = screen.query_one(RunbookHeader).query_one("#header-sinks")
        await until(pilot, lambda: "sinks ok" in str(label.render()))
        syslog.stop()
        screen.session.note("while the collector is away")
        await until(pilot, lambda: "down" in str(label.render()))
        assert label.has_class("-down")


def test_a_local_syslog_socket_receives_every_event(tmp_path: Path) -> None:
    path = tmp_path / "log.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(path))
    server.settimeout(0.2)
    got: list[bytes] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                got.append(server.recv(1 << 20))
            except TimeoutError:
                continue

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        _config(f'[[sinks]]\ntype = "syslog"\naddress = "unix://{path}"\n')
        book = tmp_path / "book.yaml"
        book.write_text(BOOK)
        (tmp_path / "go.flag").touch()
        (tmp_path / "go2.flag").touch()
        done = run_cli("run", str(book), "roll", "--plain", "--yes", "--workdir", str(tmp_path), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        lines = _journal_lines()
        _until(lambda: len(got) >= len(lines))
        parsed = [_RFC5424.match(m) for m in got]
        assert all(parsed)
        assert [m[4] for m in parsed if m] == lines
    finally:
        stop.set()
        reader.join(timeout=5)
        server.close()
