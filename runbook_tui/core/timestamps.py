"""The journal's timestamps: UTC ISO 8601 with microseconds and a ``Z``.

Kept apart from :mod:`.events` so that reading a journal's head (listing sessions
at start-up) does not build every event class.
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(at: float) -> str:
    """``2026-11-23T09:13:14.123456Z``."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso_utc(text: str) -> float:
    """Seconds since the epoch of an :func:`iso_utc` string (any ISO 8601 with an offset or ``Z``)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
