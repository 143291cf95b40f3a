"""Live decision-matrix signals: probe a row's URL and say whether it matches.

The request is the http step's own (``core.steps.http.probe``): one client
setup, one rule for redirects (reported, not followed) and timeouts.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.model import Signal
from ..core.steps.http import probe

PROBE_TIMEOUT = 3.0


@dataclass(frozen=True)
class SignalResult:
    """What a probe saw: a status code, or why there was none."""

    status: int | None
    error: str = ""

    @property
    def text(self) -> str:
        return str(self.status) if self.status is not None else (self.error or "no answer")


def signal_matches(signal: Signal, result: SignalResult) -> bool:
    """The expected status came back; without one, any failure or non-2xx matches."""
    if signal.expect_status is not None:
        return result.status == signal.expect_status
    return result.status is None or not 200 <= result.status < 300


async def probe_signal(signal: Signal, timeout: float = PROBE_TIMEOUT) -> SignalResult:
    """GET the signal's URL once, with a timeout; never raises."""
    result = await probe(signal.url, timeout)
    if result.status is not None:
        return SignalResult(result.status)
    if result.failure == "timeout":
        return SignalResult(None, f"timed out after {timeout:g}s")
    return SignalResult(None, "unreachable" if result.failure == "connect" else result.failure)
