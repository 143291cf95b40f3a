"""HTTP checks: expected status and JSON fields, retried until a deadline.

Every way a request can go wrong (nothing listening, unknown host, timeout, TLS,
an answer that is not HTTP, a redirect) becomes a result with a sentence an
on-call engineer can act on, never an exception.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..ansi import strip_ansi
from ..model import Step, StepKind
from .base import KindDef, StepContext, StepOutcome, StepRunner, frozen_map
from .shell import format_timeout

if TYPE_CHECKING:
    import ssl

    import httpx

    from ..loader.nodes import MappedNode, NodeReader


# --- the kind: its spec, keys and reader ----------------------------------------

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass(frozen=True, slots=True)
class HttpSpec:
    """GET ``url`` until it answers ``expect_status`` (and ``expect_json``) or ``retry_for`` ends."""

    url: str
    expect_status: int = 200
    expect_json: Mapping[str, str] = field(default_factory=frozen_map)
    method: str = "GET"
    request_timeout: float = 5.0
    retry_for: float = 0.0
    retry_interval: float = 2.0


def check_url(r: NodeReader, m: MappedNode, url: str, what: str) -> None:
    """``url`` must be http(s) (or start with a placeholder)."""
    node = m.get("url")
    if node is None or not url:
        return
    if not url.startswith(("http://", "https://", "{{")):
        r.ctx.error(node, f"'url' of {what} must start with http:// or https://, found {url!r}")


def status(r: NodeReader, m: MappedNode, what: str, default: int | None) -> int | None:
    """``expect_status``, an HTTP status from 100 to 599."""
    value = r.integer(m, "expect_status", what, default)
    node = m.get("expect_status")
    if value is not None and node is not None and not 100 <= value <= 599:
        r.ctx.error(node, f"'expect_status' of {what} must be an HTTP status (100-599), found {value}")
    return value


def read(r: NodeReader, m: MappedNode, what: str) -> HttpSpec:
    """An http step's keys."""
    url = r.text(m, "url", what)
    check_url(r, m, url, what)
    method = r.text(m, "method", what, "GET").upper()
    method_node = m.get("method")
    if method not in HTTP_METHODS and method_node is not None:
        r.ctx.error(method_node, f"'method' of {what} must be one of {', '.join(HTTP_METHODS)}")
    request_timeout = r.duration(m, "request_timeout", what)
    timeout_node = m.get("request_timeout")
    if request_timeout == 0 and timeout_node is not None:
        r.ctx.error(timeout_node, f"'request_timeout' of {what} must be more than 0s")
    return HttpSpec(
        url=url,
        expect_status=status(r, m, what, 200) or 200,
        expect_json=r.text_map(m, "expect_json", what),
        method=method,
        request_timeout=request_timeout or 5.0,
        retry_for=r.duration(m, "retry_for", what) or 0.0,
        retry_interval=r.duration(m, "retry_interval", what) or 2.0,
    )


def describe(spec: HttpSpec) -> str | None:
    """The URL (None when empty: the title)."""
    return spec.url or None


# --- the runner ------------------------------------------------------------------

MAX_BODY = 1024 * 1024  # bytes read from an answer; a health check needs far less
EXCERPT = 200  # characters of the body shown per attempt


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One request: the status it answered, or why there was no answer; seconds it took."""

    status: int | None
    error: str | None
    elapsed: float
    body: bytes = b""
    location: str | None = None  # where a redirect points
    failure: str = ""  # no answer: "timeout", "connect", or the error's type name (live signals show it)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


async def probe(url: str, timeout: float, method: str = "GET") -> ProbeResult:
    """Send one request to ``url``; never raises for network trouble (for live signals)."""
    async with await _client(timeout) as client:
        return await _request(client, method, url, timeout)


_tls: ssl.SSLContext | None = None


async def _tls_context() -> ssl.SSLContext:
    """One TLS context for every client: loading the CA bundle takes ~70 ms, so once, in a thread."""
    global _tls
    # asyncio and httpx only when a request is made: loading a runbook imports this module.
    import asyncio

    import httpx

    if _tls is None:
        _tls = await asyncio.to_thread(httpx.create_ssl_context)
    return _tls


async def _client(timeout: float) -> httpx.AsyncClient:
    # Redirects are reported, not followed: a health check answering 302 to a
    # login page is not healthy.
    import httpx

    tls = await _tls_context()
    return httpx.AsyncClient(timeout=httpx.Timeout(timeout), follow_redirects=False, verify=tls)


async def _request(client: httpx.AsyncClient, method: str, url: str, timeout: float) -> ProbeResult:
    import asyncio

    import httpx

    start = time.monotonic()
    try:
        async with asyncio.timeout(timeout):  # a total bound, for servers that drip bytes
            async with client.stream(method, url) as response:
                body = await _read_capped(response)
                return ProbeResult(
                    response.status_code,
                    None,
                    time.monotonic() - start,
                    body,
                    response.headers.get("location"),
                )
    except TimeoutError:
        failure = "timeout"
        error = f"no answer from {_where(url)} within {format_timeout(timeout)} — is it overloaded?"
    except httpx.InvalidURL as exc:
        error, failure = f"invalid URL {url!r}: {exc}; fix the step's url", type(exc).__name__
    except httpx.HTTPError as exc:
        error, failure = describe_error(exc, url, timeout), _failure(exc)
    except (OSError, ValueError) as exc:  # anything below httpx that slipped through
        error, failure = f"request to {_where(url)} failed: {exc}", type(exc).__name__
    return ProbeResult(None, error, time.monotonic() - start, failure=failure)


def _failure(exc: httpx.HTTPError) -> str:
    """The short name of what went wrong, as a live signal's cell shows it."""
    import httpx

    if isinstance(exc, httpx.TimeoutException):
        return "timeout"
    return "connect" if isinstance(exc, httpx.ConnectError) else type(exc).__name__


async def _read_capped(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_BODY:
            break
    return b"".join(chunks)[:MAX_BODY]


def describe_error(exc: httpx.HTTPError, url: str, timeout: float) -> str:
    """A sentence for a failed request: what happened and what to check."""
    import socket
    import ssl

    import httpx

    where = _where(url)
    detail = _root_message(exc).rstrip(".")
    chain = list(_chain(exc))
    lowered = " | ".join(str(e) for e in chain).lower()
    if isinstance(exc, httpx.ConnectTimeout):
        return f"could not connect to {where} within {format_timeout(timeout)} — is a firewall dropping it?"
    if isinstance(exc, httpx.TimeoutException):
        return f"no answer from {where} within {format_timeout(timeout)} — is it overloaded?"
    if any(isinstance(e, ssl.SSLError) for e in chain) or "[ssl" in lowered:
        return f"TLS handshake with {where} failed ({detail}) — is it really https, with a valid certificate?"
    if isinstance(exc, httpx.UnsupportedProtocol):
        return f"cannot request {url!r}: {detail}; use an http:// or https:// URL"
    if isinstance(exc, httpx.ConnectError):
        if any(isinstance(e, ConnectionRefusedError) for e in chain) or "refused" in lowered:
            return f"connection refused: nothing is listening on {where} — is the service up?"
        if any(isinstance(e, socket.gaierror) for e in chain) or any(w in lowered for w in _DNS_WORDS):
            host = urlsplit(url).hostname or url
            return f"DNS lookup failed: cannot resolve host {host!r} — check the host name ({detail})"
        return f"could not connect to {where}: {detail}"
    if isinstance(exc, httpx.RemoteProtocolError):
        if "without sending" in lowered or "disconnected" in lowered:
            return f"connection closed by {where} without an answer"
        return f"not an HTTP answer from {where} ({detail}) — is this the right port?"
    if isinstance(exc, httpx.ReadError):
        return f"connection to {where} broke while reading the answer: {detail}"
    return f"request to {where} failed: {type(exc).__name__}: {detail}"


_DNS_WORDS = (
    "name or service not known",
    "nodename nor servname",
    "name resolution",
    "no address",
    "getaddrinfo",
)


def _root_message(exc: BaseException) -> str:
    text = str(exc)
    cause = exc.__cause__ or exc.__context__
    while not text and cause is not None:
        text, cause = str(cause), cause.__cause__ or cause.__context__
    return text or type(exc).__name__


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes, and the members of any exception group among them."""
    todo, seen = [exc], set()
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                todo.append(linked)


def _where(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return url
    return f"{parts.hostname}:{port}" if parts.hostname else url


# --- judging an answer -------------------------------------------------------------


def judge(result: ProbeResult, spec: HttpSpec) -> str | None:
    """Why ``result`` does not satisfy ``spec``, or None when it does."""
    if result.error is not None:
        return result.error
    if result.status != spec.expect_status:
        redirect = f" (a redirect to {result.location})" if result.location else ""
        return f"answered {result.status}{redirect}, expected {spec.expect_status}"
    if spec.expect_json:
        return check_json(result.body, spec.expect_json)
    return None


def check_json(body: bytes, expected: Mapping[str, str]) -> str | None:
    """Compare dotted fields of a JSON body with the expected values, as strings."""
    try:
        document = json.loads(body.decode("utf-8", errors="strict"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return f"the answer is not JSON (it starts {excerpt(body, 60)!r}); expected fields {_pairs(expected)}"
    problems = []
    for key, want in expected.items():
        found, value = _lookup(document, key)
        if not found:
            problems.append(f"field {key} is missing")
        elif _as_text(value) != str(want):
            problems.append(f"field {key} is {_as_text(value)!r}, expected {str(want)!r}")
    return "; ".join(problems) or None


def _lookup(document: Any, dotted: str) -> tuple[bool, Any]:
    node = document
    for part in dotted.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False, None
    return True, node


def _as_text(value: Any) -> str:
    """A JSON value the way a runbook writes it: true, 3, connected, null."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _pairs(expected: Mapping[str, str]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in expected.items())


def excerpt(body: bytes, limit: int = EXCERPT) -> str:
    """The start of a body on one line, without escapes, cut at ``limit`` characters."""
    text = " ".join(strip_ansi(body[: limit * 4].decode("utf-8", errors="replace")).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def attempt_line(method: str, url: str, result: ProbeResult) -> str:
    """``GET http://host/health -> 503 in 12 ms: {"status": "down"}``."""
    ms = f"{result.elapsed * 1000:.0f} ms"
    if result.status is None:
        return f"{method} {url} -> {result.error} ({ms})"
    body = excerpt(result.body)
    return f"{method} {url} -> {result.status} in {ms}" + (f": {body}" if body else "")


# --- the runner --------------------------------------------------------------------


class HttpRunner(StepRunner):
    """Requests a URL until it answers as expected or ``retry_for`` has passed."""

    kind = StepKind.HTTP

    async def run(self, step: Step, ctx: StepContext) -> StepOutcome:
        import asyncio

        spec = step.spec
        if not isinstance(spec, HttpSpec):
            return StepOutcome.failed(f"step {step.id} is not an http step")
        start = time.monotonic()
        deadline = start + spec.retry_for
        attempts = 0
        async with await _client(spec.request_timeout) as client:
            while True:
                attempts += 1
                result = await _request(client, spec.method, spec.url, spec.request_timeout)
                ctx.output(attempt_line(spec.method, spec.url, result), "info")
                problem = judge(result, spec)
                remaining = deadline - time.monotonic()
                if problem is None or remaining <= 0:
                    break
                await asyncio.sleep(min(spec.retry_interval, remaining))
        elapsed = time.monotonic() - start
        data = {"status": result.status, "attempts": attempts, "elapsed": round(elapsed, 3)}
        tries = f" after {attempts} attempts in {format_timeout(round(elapsed, 1))}" if attempts > 1 else ""
        if problem is None:
            return StepOutcome.passed(f"answered {result.status}{tries}", **data)
        return StepOutcome.failed(problem + tries, **data)

    def describe(self, step: Step) -> str:
        spec = step.spec
        if not isinstance(spec, HttpSpec):
            return step.title
        fields = f" with {_pairs(spec.expect_json)}" if spec.expect_json else ""
        retry = f", retrying for {format_timeout(spec.retry_for)}" if spec.retry_for else ""
        return f"{spec.method} {spec.url} expecting {spec.expect_status}{fields}{retry}"


KIND = KindDef(
    spec=HttpSpec,
    keys=frozenset(
        {"url", "expect_status", "expect_json", "method", "request_timeout", "retry_for", "retry_interval"}
    ),
    required=("url",),
    read=read,
    describe=describe,
    runner=HttpRunner,
)
