"""Reading a journal one record at a time, so a million output lines cost no memory.

``core/journal.py`` loads a whole journal for resume; the report and the session
list only need to walk it once, so they stream it here with the same rules: the
first line is the header, every other line one event, and a torn last line (a
crash mid-write) is dropped and reported, never fatal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import RunbookTuiError


class JournalUnreadable(RunbookTuiError):
    """The journal file cannot be opened or has no header."""

    exit_code = 2


@dataclass(slots=True)
class StreamStatus:
    """What the walk found besides events: header, torn tail, skipped lines."""

    header: dict[str, Any] = field(default_factory=dict)
    torn_tail: bool = False
    problems: list[str] = field(default_factory=list)
    lines: int = 0


def parse_line(raw: bytes) -> dict[str, Any] | None:
    """One JSON object from a journal line, or None when it is not one."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def iter_records(path: Path, status: StreamStatus) -> Iterator[dict[str, Any]]:
    """Yield each event record (a dict with ``kind``) of the journal at ``path``.

    ``status`` is filled as the walk goes: the header, whether the last line was
    torn, and a problem per line in the middle that could not be read.
    """
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise JournalUnreadable(f"{path}: cannot read the session journal ({exc.strerror})") from exc
    with handle:
        pending: bytes | None = None
        number = -1
        for number, raw in enumerate(handle):
            if pending is not None:
                record = _record(pending, number - 1, status, last=False)
                if record is not None:
                    yield record
            pending = raw
        if pending is not None:
            record = _record(pending, number, status, last=True)
            if record is not None:
                yield record
        number += 1
        status.lines = number
    if number == 0:
        # The file was created but the crash came before the header was written.
        status.torn_tail = True


def _record(raw: bytes, number: int, status: StreamStatus, *, last: bool) -> dict[str, Any] | None:
    value = parse_line(raw)
    if value is None:
        if last and not raw.endswith(b"\n"):
            # Cut mid-write by a crash: the same rule as journal.load.
            status.torn_tail = True
        elif raw.strip():
            status.problems.append(f"line {number + 1}: not a JSON object; skipped")
        return None
    if number == 0:
        if "kind" in value:
            status.problems.append("line 1: the header is missing; read the events without it")
            return value
        status.header = value
        return None
    if "kind" not in value:
        status.problems.append(f"line {number + 1}: a record without a kind; skipped")
        return None
    return value
