"""A real HTTP server on 127.0.0.1 for tests: routes answer 200 + JSON, 503, slowly, or with garbage.

Usage::

    with LoopbackServer() as server:
        server.route("/health", Reply.json({"database": "connected"}))
        server.route("/flaky", Reply(503), Reply(503), Reply.json({"ok": True}))  # then 200 forever
        server.route("/slow", Reply(200, delay=3))
        server.route("/garbage", Reply(raw=b"\\x00\\xffnot http\\r\\n\\r\\n"))
        server.route("/hangup", Reply(close=True))
        url = server.url("/health")

A route's replies are used in order; the last one repeats. Unknown paths answer 404.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One answer: a status and body, after ``delay`` seconds; or raw bytes; or a hang-up."""

    status: int = 200
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    raw: bytes | None = None  # sent instead of an HTTP answer, then the connection closes
    close: bool = False  # close the connection without answering
    drip: float = 0.0  # seconds between body bytes: each read is quick, the whole is slow

    @classmethod
    def json(cls, data: Any, status: int = 200, **kw: Any) -> Reply:
        """A JSON answer with the right content type."""
        body = json.dumps(data).encode()
        return cls(status, body, {"Content-Type": "application/json"}, **kw)

    @classmethod
    def text(cls, text: str, status: int = 200, **kw: Any) -> Reply:
        return cls(status, text.encode(), {"Content-Type": "text/plain; charset=utf-8"}, **kw)


@dataclass(frozen=True)
class Request:
    """A request the server received."""

    method: str
    path: str
    at: float


class LoopbackServer:
    """A ``ThreadingHTTPServer`` on 127.0.0.1, on a free port, serving in a thread."""

    def __init__(self) -> None:
        self._routes: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._server.block_on_close = False  # a slow answer must not hold up the test's end
        # A short poll interval: shutdown() waits up to one interval.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), name="loopback-http", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def route(self, path: str, *replies: Reply) -> None:
        """Answer ``path`` with ``replies`` in order, repeating the last."""
        if not replies:
            raise ValueError("a route needs at least one reply")
        with self._lock:
            self._routes[path] = list(replies)

    def hits(self, path: str) -> int:
        """How many requests ``path`` received."""
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def next_reply(self, method: str, path: str) -> Reply | None:
        with self._lock:
            self.requests.append(Request(method, path, time.monotonic()))
            queue = self._routes.get(path)
            if queue is None:
                return None
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _handler_for(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            try:
                self._reply()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up waiting: often the point of the test

        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)  # keep the connection in step for the next request
            path = self.path.split("?", 1)[0]
            reply = server.next_reply(self.command, path)
            if reply is None:
                reply = Reply.text(f"no route {path}\n", 404)
            if reply.delay:
                time.sleep(reply.delay)
            if reply.close:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            if reply.raw is not None:
                self.wfile.write(reply.raw)
                self.wfile.flush()
                self.close_connection = True
                return
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            if self.command == "HEAD":
                return
            if not reply.drip:
                self.wfile.write(reply.body)
                return
            for i in range(len(reply.body)):
                self.wfile.write(reply.body[i : i + 1])
                self.wfile.flush()
                time.sleep(reply.drip)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _answer

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests assert on ``server.requests`` instead."""

    return Handler


def closed_port() -> int:
    """A loopback port with nothing listening on it (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
