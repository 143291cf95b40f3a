"""The session as evidence (issue 17): parsing what the engineer gives about the incident.

The start of impact (``--impact-started``), roles (``--role ic=alice``) and the due
date of an action item. Every function raises :class:`UsageError` (exit 2) with a
message saying what was expected; none of them reads a clock of its own: ``now`` is
passed in, so tests and the app agree on it.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from .durations import DurationError, parse_duration
from .errors import UsageError

_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")

IMPACT_HELP = (
    "ISO 8601 (2026-11-27T03:12:00Z), a local time today (03:12), or relative (-25m, '25 minutes ago')"
)


def parse_impact_time(text: str, now: float, *, what: str = "--impact-started") -> float:
    """Epoch seconds for ``text``: ISO 8601, ``HH:MM`` (local, today), ``-25m`` or ``25 minutes ago``.

    A time after ``now`` is refused: impact cannot start in the future.
    """
    raw = (text or "").strip()
    if not raw:
        raise UsageError(f"{what}: give a time: {IMPACT_HELP}")
    at = _relative(raw.lower(), now)
    if at is None:
        at = _clock(raw, now)
    if at is None:
        at = _iso(raw)
    if at is None:
        raise UsageError(f"{what} {raw!r}: not a time this understands; use {IMPACT_HELP}")
    if at > now + 1:
        raise UsageError(f"{what} {raw!r} is in the future; impact must have started already")
    return at


def _relative(raw: str, now: float) -> float | None:
    if raw in ("now", "0"):
        return now
    body: str | None = None
    if raw.startswith("-"):
        body = raw[1:]
    elif raw.endswith(" ago"):
        body = raw[: -len(" ago")]
    if body is None:
        return None
    body = body.replace(",", " ").replace(" and ", " ").strip()
    if not body or body.replace(".", "", 1).isdigit():
        return None  # a unit is needed: "-25" says neither minutes nor seconds
    try:
        return now - parse_duration(body)
    except DurationError:
        return None


def _clock(raw: str, now: float) -> float | None:
    m = _CLOCK.fullmatch(raw)
    if m is None:
        return None
    hour, minute, second = int(m[1]), int(m[2]), int(m[3] or 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    today = datetime.fromtimestamp(now).astimezone()
    at = today.replace(hour=hour, minute=minute, second=second, microsecond=0)
    if at.timestamp() > now + 1:  # 23:50 said at 00:10 means yesterday
        at -= timedelta(days=1)
    return at.timestamp()


def _iso(raw: str) -> float | None:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # no offset: the local time zone, as the engineer's clock says
    return moment.timestamp()


ROLE_NAMES = {
    "ic": "incident_commander",
    "commander": "incident_commander",
    "incident_commander": "incident_commander",
    "incident-commander": "incident_commander",
    "ops": "operator",
    "operator": "operator",
    "comms": "communications",
    "communications": "communications",
    "scribe": "scribe",
}
ROLE_TITLES = {
    "incident_commander": "Incident commander",
    "operator": "Operator",
    "communications": "Communications",
    "scribe": "Scribe",
}


def parse_roles(items: list[str]) -> dict[str, str]:
    """``["ic=alice", "comms=carol"]`` -> ``{"incident_commander": "alice", "communications": "carol"}``."""
    roles: dict[str, str] = {}
    for item in items:
        role, sep, name = item.partition("=")
        key = ROLE_NAMES.get(role.strip().lower())
        if not sep or key is None or not name.strip():
            known = ", ".join(sorted(k for k in ROLE_NAMES if "_" not in k and "-" not in k))
            raise UsageError(
                f"--role {item!r}: use ROLE=NAME with ROLE one of {known} (e.g. --role ic=alice)"
            )
        roles[key] = _one_line(name, f"--role {item!r}")
    return roles


def parse_due(text: str | None) -> str:
    """An action item's due date as ``YYYY-MM-DD`` ("" when none was given)."""
    if not text:
        return ""
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        raise UsageError(f"--due {text!r}: give a date as YYYY-MM-DD") from None


def _one_line(text: str, what: str) -> str:
    value = " ".join(text.split())
    if any(ord(c) < 32 for c in value):
        raise UsageError(f"{what}: control characters are not allowed")
    return value


def check_text(text: str, what: str) -> str:
    """One line of plain text (whitespace folded), not empty."""
    value = _one_line(text or "", what)
    if not value:
        raise UsageError(f"{what}: give some text")
    return value


def format_clock(at: float) -> str:
    """``03:12`` in UTC, as the handoff sentence says it."""
    return datetime.fromtimestamp(at, UTC).strftime("%H:%M")
