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


def iter_lines(path: Path, status: StreamStatus) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line number, raw line)`` for each event line of the journal at ``path``.

    Lines are not parsed here (a million output lines are the hot path); only the
    header and the last line are, to fill ``status`` with the header and whether
    the last line was torn.
    """
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise JournalUnreadable(f"{path}: cannot read the session journal ({exc.strerror})") from exc
    with handle:
        first = handle.readline()
        if not first:
            status.torn_tail = True  # created, but the crash came before the header was written
            return
        if not first.endswith(b"\n"):
            # Only a header, and not even its newline: a crash as the session started (as journal.load).
            status.torn_tail = True
            status.lines = 1
            return
        header = parse_line(first)
        if header is None:
            status.problems.append("line 1: the header is not a JSON object; read the events without it")
        elif "kind" in header:
            status.problems.append("line 1: the header is missing; read the events without it")
            yield 1, first
        else:
            status.header = header
        number = 1
        pending: bytes | None = None
        for raw in handle:
            if pending is not None:
                yield number, pending
            number += 1
            pending = raw
        status.lines = number
        if pending is not None:
            if pending.endswith(b"\n") or parse_line(pending) is not None:
                yield number, pending
            else:
                status.torn_tail = True  # cut mid-write by a crash: the same rule as journal.load


def iter_records(path: Path, status: StreamStatus) -> Iterator[dict[str, Any]]:
    """Yield each event record (a dict with ``kind``); unreadable lines become problems in ``status``."""
    for number, raw in iter_lines(path, status):
        record = parse_record(raw, number, status.problems)
        if record is not None:
            yield record


def parse_record(raw: bytes, number: int, problems: list[str]) -> dict[str, Any] | None:
    """The event record on one line, or None (with a problem noted) when it is not one."""
    value = parse_line(raw)
    if value is None:
        if raw.strip():
            problems.append(f"line {number}: not a JSON object; skipped")
        return None
    if "kind" not in value:
        problems.append(f"line {number}: a record without a kind; skipped")
        return None
    return value
