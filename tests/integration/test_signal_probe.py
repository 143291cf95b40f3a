"""Live decision-matrix signals: what a probe shows for an answer, a closed port, a slow server."""

from __future__ import annotations

from helpers.httpserver import LoopbackServer, Reply, closed_port

from runbook_tui.core.model import Signal
from runbook_tui.ui.signals import SignalResult, probe_signal, signal_matches


async def test_an_answer_is_its_status_and_matches_by_the_expected_status() -> None:
    with LoopbackServer() as server:
        server.route("/health", Reply(503))
        server.route("/ok", Reply.json({"ok": True}))
        down = Signal(server.url("/health"), expect_status=503)
        result = await probe_signal(down)
        assert result == SignalResult(503)
        assert result.text == "503" and signal_matches(down, result)
        ok = await probe_signal(Signal(server.url("/ok")))
        assert ok == SignalResult(200) and not signal_matches(Signal(server.url("/ok")), ok)


async def test_a_closed_port_is_unreachable_and_matches_without_an_expected_status() -> None:
    signal = Signal(f"http://127.0.0.1:{closed_port()}/health")
    result = await probe_signal(signal)
    assert result == SignalResult(None, "unreachable")
    assert result.text == "unreachable" and signal_matches(signal, result)


async def test_a_slow_server_times_out_with_the_timeout_said() -> None:
    with LoopbackServer() as server:
        server.route("/slow", Reply(200, delay=3))
        result = await probe_signal(Signal(server.url("/slow")), timeout=0.3)
        assert result == SignalResult(None, "timed out after 0.3s")


async def test_a_redirect_is_not_followed() -> None:
    with LoopbackServer() as server:
        server.route("/login", Reply(302, headers={"Location": "/elsewhere"}))
        result = await probe_signal(Signal(server.url("/login")))
        assert result == SignalResult(302)


async def test_an_answer_that_is_not_http_is_named_by_what_went_wrong() -> None:
    with LoopbackServer() as server:
        server.route("/garbage", Reply(raw=b"\x00\xffnot http\r\n\r\n"))
        server.route("/hangup", Reply(close=True))
        garbage = await probe_signal(Signal(server.url("/garbage")))
        hangup = await probe_signal(Signal(server.url("/hangup")))
    assert garbage == SignalResult(None, "RemoteProtocolError")
    assert hangup == SignalResult(None, "RemoteProtocolError")
