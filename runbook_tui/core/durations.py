"""Durations and recovery windows, read the way people write them.

``5m``, ``90s``, ``1h30m``, ``2 min``, ``< 5 minutes``, ``<1 minute``,
``10-30 minutes``, ``within 10 min``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_UNITS: dict[str, int] = {
    "ms": 0,  # handled separately, rounds down to whole seconds
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
}

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-zA-Z]+)")
_COMPACT = re.compile(r"^\s*(?:\d+(?:\.\d+)?\s*[a-zA-Z]+\s*)+$")
_RANGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)?\s*(?:-|–|to)\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*$")
_UPPER = re.compile(r"^\s*(?:<=?|≤|under|within|up to|less than|at most)\s*(.+)$", re.I)


class DurationError(ValueError):
    """A duration could not be read; the message says what is accepted."""


HINT = "write it like 90s, 5m, 1h30m, '< 5 minutes' or '10-30 minutes'"


def _unit_seconds(unit: str) -> float:
    key = unit.lower()
    if key not in _UNITS:
        raise DurationError(f"unknown time unit {unit!r}; {HINT}")
    if key == "ms":
        return 0.001
    return float(_UNITS[key])


def parse_duration(text: str | int | float) -> float:
    """Seconds in ``text`` (``90s``, ``5m``, ``1h30m``, ``2 min``, or a bare number of seconds)."""
    if isinstance(text, bool):
        raise DurationError(f"expected a duration, got {text!r}; {HINT}")
    if isinstance(text, int | float):
        if not math.isfinite(text) or text < 0:
            raise DurationError(f"a duration must be zero or more seconds, got {text}; {HINT}")
        return float(text)
    raw = str(text).strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", raw):
        return float(raw)
    if not raw or not _COMPACT.match(raw):
        raise DurationError(f"cannot read {text!r} as a duration; {HINT}")
    return sum(float(n) * _unit_seconds(u) for n, u in _PART.findall(raw))


@dataclass(frozen=True, slots=True)
class Window:
    """A target time window as the runbook states it; ``high`` is the target."""

    text: str
    low: float | None
    high: float

    @property
    def target_seconds(self) -> float:
        return self.high


def parse_window(text: str | int | float) -> Window:
    """Read a recovery window: ``< 5 minutes``, ``10-30 minutes``, ``5m``, ``(2 min)``."""
    raw = str(text).strip().strip("()").strip()
    if not raw:
        raise DurationError(f"empty time window; {HINT}")
    match = _RANGE.match(raw)
    if match:
        lo, lo_unit, hi, hi_unit = match.groups()
        lo_s = float(lo) * _unit_seconds(lo_unit or hi_unit)
        hi_s = float(hi) * _unit_seconds(hi_unit)
        if lo_s > hi_s:
            raise DurationError(f"window {text!r} ends before it starts; {HINT}")
        return Window(str(text).strip(), lo_s, hi_s)
    upper = _UPPER.match(raw)
    if upper:
        return Window(str(text).strip(), None, parse_duration(upper.group(1)))
    return Window(str(text).strip(), None, parse_duration(raw))


def format_seconds(seconds: float) -> str:
    """``75`` -> ``1m15s``; ``3600`` -> ``1h00m``; sub-second values keep one decimal."""
    if seconds < 0:  # time left after a window closed
        return "-" + format_seconds(-seconds)
    if round(seconds, 1) < 10 and seconds != int(seconds):
        return f"{seconds:.1f}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
