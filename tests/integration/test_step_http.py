"""HTTP checks against a real loopback server: status, JSON fields, retries, every failure as text."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers.httpserver import LoopbackServer, Reply, closed_port

from runbook_tui.core.events import StepStatus
from runbook_tui.core.model import HttpSpec, Step, StepKind
from runbook_tui.core.steps.base import StepOutcome
from runbook_tui.core.steps.http import HttpRunner, check_json, excerpt, probe


@dataclass
class Ctx:
    """The StepContext interface, collecting output lines."""

    workdir: Path = Path(".")
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    drill: bool = False
    backup_dir: Path = Path("/nonexistent")
    lines: list[tuple[str, str]] = field(default_factory=list)

    def output(self, text: str, stream: str = "stdout") -> None:
        self.lines.append((stream, text))

    def info(self) -> list[str]:
        return [text for s, text in self.lines if s == "info"]


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as srv:
        yield srv


def http_step(url: str, **spec: object) -> Step:
    return Step("h1", "health check", StepKind.HTTP, HttpSpec(url, **spec))  # type: ignore[arg-type]


async def check(url: str, **spec: object) -> tuple[StepOutcome, Ctx, float]:
    ctx = Ctx()
    start = time.monotonic()
    outcome = await HttpRunner().run(http_step(url, **spec), ctx)
    return outcome, ctx, time.monotonic() - start


# --- answers ------------------------------------------------------------------------


async def test_expected_status_passes_and_reports_the_attempt(server: LoopbackServer) -> None:
    server.route("/health", Reply.json({"database": "connected"}))
    outcome, ctx, _ = await check(server.url("/health"))
    assert outcome.status is StepStatus.PASSED
    assert outcome.message == "answered 200"
    assert outcome.data["status"] == 200 and outcome.data["attempts"] == 1
    assert re.fullmatch(
        rf"GET {re.escape(server.url('/health'))} -> 200 in \d+ ms: \{{\"database\": \"connected\"\}}",
        ctx.info()[0],
    )


async def test_unexpected_status_fails_with_both_numbers(server: LoopbackServer) -> None:
    server.route("/health", Reply.text("down for maintenance", 503))
    outcome, ctx, _ = await check(server.url("/health"))
    assert outcome.status is StepStatus.FAILED
    assert outcome.message == "answered 503, expected 200"
    assert re.fullmatch(r"GET \S+ -> 503 in \d+ ms: down for maintenance", ctx.info()[0])


async def test_other_methods_and_expected_statuses(server: LoopbackServer) -> None:
    server.route("/drain", Reply(204))
    outcome, _, _ = await check(server.url("/drain"), method="POST", expect_status=204)
    assert outcome.status is StepStatus.PASSED
    assert server.requests[-1].method == "POST"


async def test_a_redirect_is_reported_not_followed(server: LoopbackServer) -> None:
    server.route("/health", Reply(302, headers={"Location": "/login"}))
    server.route("/login", Reply.text("login page"))
    outcome, _, _ = await check(server.url("/health"))
    assert outcome.status is StepStatus.FAILED
    assert outcome.message == "answered 302 (a redirect to /login), expected 200"
    assert server.hits("/login") == 0


# --- JSON fields --------------------------------------------------------------------


async def test_expected_json_fields_match_with_dotted_keys(server: LoopbackServer) -> None:
    server.route("/health", Reply.json({"database": "connected", "checks": {"db": "ok", "n": 3, "up": True}}))
    expect = {"database": "connected", "checks.db": "ok", "checks.n": "3", "checks.up": "true"}
    outcome, _, _ = await check(server.url("/health"), expect_json=expect)
    assert outcome.status is StepStatus.PASSED


async def test_json_mismatch_names_each_field(server: LoopbackServer) -> None:
    server.route("/health", Reply.json({"database": "disconnected", "checks": {}}))
    outcome, _, _ = await check(
        server.url("/health"), expect_json={"database": "connected", "checks.db": "ok"}
    )
    assert outcome.status is StepStatus.FAILED
    assert (
        outcome.message
        == "field database is 'disconnected', expected 'connected'; field checks.db is missing"
    )


async def test_a_non_json_body_when_json_is_expected_is_a_clear_failure(server: LoopbackServer) -> None:
    server.route("/health", Reply.text("<html>OK</html>"))
    outcome, _, _ = await check(server.url("/health"), expect_json={"database": "connected"})
    assert outcome.status is StepStatus.FAILED
    assert outcome.message == (
        "the answer is not JSON (it starts '<html>OK</html>'); expected fields database: connected"
    )


def test_json_lookup_into_lists_and_nulls() -> None:
    body = b'{"replicas": [{"state": "up"}, {"state": null}]}'
    assert check_json(body, {"replicas.0.state": "up", "replicas.1.state": "null"}) is None
    assert check_json(body, {"replicas.5.state": "up"}) == "field replicas.5.state is missing"


def test_body_excerpt_is_one_short_line() -> None:
    text = excerpt(b"line one\n\x1b[31mline two\x1b[0m " + b"x" * 500)
    assert text.startswith("line one line two xxx") and len(text) == 200 and text.endswith("…")


# --- retries ------------------------------------------------------------------------


async def test_retries_until_the_service_answers(server: LoopbackServer) -> None:
    server.route("/health", Reply(503), Reply(503), Reply.json({"database": "connected"}))
    outcome, ctx, elapsed = await check(
        server.url("/health"), retry_for=10, retry_interval=0.2, expect_json={"database": "connected"}
    )
    assert outcome.status is StepStatus.PASSED
    assert outcome.data["attempts"] == 3 and server.hits("/health") == 3
    assert outcome.message.startswith("answered 200 after 3 attempts in ")
    assert [line.split(" -> ")[1].split(" ")[0] for line in ctx.info()] == ["503", "503", "200"]
    assert 0.35 < elapsed < 3


async def test_retrying_stops_at_the_deadline(server: LoopbackServer) -> None:
    server.route("/health", Reply(503))
    outcome, ctx, elapsed = await check(server.url("/health"), retry_for=1.0, retry_interval=0.3)
    assert outcome.status is StepStatus.FAILED
    assert outcome.message.startswith("answered 503, expected 200 after ")
    assert 1.0 <= elapsed < 2.0
    assert 4 <= outcome.data["attempts"] <= 6 and len(ctx.info()) == outcome.data["attempts"]
    assert outcome.data["status"] == 503


async def test_without_retry_for_there_is_exactly_one_attempt(server: LoopbackServer) -> None:
    server.route("/health", Reply(503), Reply(200))
    outcome, _, _ = await check(server.url("/health"))
    assert outcome.status is StepStatus.FAILED and outcome.data["attempts"] == 1


async def test_cancelling_a_retrying_check_stops_it(server: LoopbackServer) -> None:
    server.route("/health", Reply(503))
    task = asyncio.create_task(HttpRunner().run(http_step(server.url("/health"), retry_for=60), Ctx()))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# --- no answer: every case is text, never an exception --------------------------------


async def test_connection_refused() -> None:
    port = closed_port()
    outcome, ctx, _ = await check(f"http://localhost:{port}/health")
    assert outcome.status is StepStatus.FAILED
    assert outcome.message == (
        f"connection refused: nothing is listening on localhost:{port} — is the service up?"
    )
    assert outcome.data["status"] is None
    assert ctx.info()[0].startswith(f"GET http://localhost:{port}/health -> connection refused")


async def test_unknown_host() -> None:
    outcome, _, _ = await check("http://no-such-host.invalid/health")
    assert outcome.status is StepStatus.FAILED
    assert outcome.message.startswith("DNS lookup failed: cannot resolve host 'no-such-host.invalid'")


async def test_a_slow_answer_times_out_per_request(server: LoopbackServer) -> None:
    server.route("/slow", Reply(200, delay=3))
    outcome, _, elapsed = await check(server.url("/slow"), request_timeout=0.5)
    assert outcome.status is StepStatus.FAILED
    assert outcome.message == f"no answer from 127.0.0.1:{server.port} within 0.5s — is it overloaded?"
    assert 0.4 < elapsed < 2


async def test_a_dripping_answer_is_bounded_by_the_total_timeout(server: LoopbackServer) -> None:
    server.route("/drip", Reply.text("x" * 20, drip=0.1))  # each byte quick, all of them 2 s
    outcome, _, elapsed = await check(server.url("/drip"), request_timeout=0.5)
    assert outcome.status is StepStatus.FAILED
    assert outcome.message.startswith("no answer from")
    assert 0.4 < elapsed < 1.5


async def test_garbage_instead_of_http(server: LoopbackServer) -> None:
    server.route("/health", Reply(raw=b"\x00\xffSSH-2.0-OpenSSH\r\n\r\n"))
    outcome, _, _ = await check(server.url("/health"))
    assert outcome.status is StepStatus.FAILED
    assert outcome.message.startswith(f"not an HTTP answer from 127.0.0.1:{server.port}")


async def test_connection_closed_without_answer(server: LoopbackServer) -> None:
    server.route("/health", Reply(close=True))
    outcome, _, _ = await check(server.url("/health"))
    assert outcome.message == f"connection closed by 127.0.0.1:{server.port} without an answer"


async def test_tls_to_a_plain_http_port(server: LoopbackServer) -> None:
    outcome, _, _ = await check(f"https://127.0.0.1:{server.port}/health")
    assert outcome.status is StepStatus.FAILED
    assert outcome.message.startswith(f"TLS handshake with 127.0.0.1:{server.port} failed")


async def test_a_url_without_scheme() -> None:
    outcome, _, _ = await check("localhost:5007/health")
    assert outcome.status is StepStatus.FAILED
    assert outcome.message.startswith("cannot request 'localhost:5007/health'")
    assert "use an http:// or https:// URL" in outcome.message


# --- probe, for live signals ---------------------------------------------------------


async def test_probe_reports_status_or_error(server: LoopbackServer) -> None:
    server.route("/health", Reply(503))
    up = await probe(server.url("/health"), 1.0)
    assert up.status == 503 and up.error is None and up.elapsed < 1
    down = await probe(f"http://127.0.0.1:{closed_port()}/", 1.0)
    assert down.status is None and down.error is not None and "connection refused" in down.error


def test_describe() -> None:
    step = http_step("http://localhost:5007/health", expect_json={"database": "connected"}, retry_for=120)
    assert HttpRunner().describe(step) == (
        "GET http://localhost:5007/health expecting 200 with database: connected, retrying for 2m"
    )
