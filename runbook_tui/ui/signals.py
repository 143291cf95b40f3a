"""Live decision-matrix signals: probe a row's URL and say whether it matches."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from ..core.model import Signal

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
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            response = await client.get(signal.url)
    except httpx.TimeoutException:
        return SignalResult(None, f"timed out after {timeout:g}s")
    except httpx.ConnectError:
        return SignalResult(None, "unreachable")
    except httpx.HTTPError as exc:
        return SignalResult(None, type(exc).__name__)
    return SignalResult(response.status_code)
