"""Reading a journal as records (the JSON objects of its lines), so a million output lines cost no memory.

``reader.py`` reads a journal back into events for resume; the report, the session
list and ``verify`` only need its records (dicts, as ``events.to_dict`` makes them),
so they read them here with the same rules: the first line is the header, every other
line one event, and a torn last line (``codec.is_torn``) is dropped and reported,
never fatal.

Apart from ``reader.py`` because the session list reads journals at start-up: this
module (and the package's ``__init__``) builds no event classes, which cost ~70 ms;
only a last line that is a whole JSON object lacking its newline brings in the codec.
"""

from __future__ import annotations

import json
import os
import re
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
            # Only a header, and not even its newline: a crash as the session started (as reader.load).
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
            if pending.endswith(b"\n") or not is_torn(pending):
                yield number, pending
            else:
                status.torn_tail = True  # cut mid-write by a crash: the same rule as reader.load


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


def is_torn(last: bytes) -> bool:
    """``codec.is_torn``, the one rule for a last line without its newline, building no event class if it can.

    What a crash mid-write leaves is never a whole JSON object: that is torn at once. A
    whole object is torn unless it decodes as an event, which only the codec can say.
    """
    if parse_line(last) is None:
        return True
    from .codec import is_torn as decodes_not  # the event classes, only for this rare line

    return decodes_not(last)


@dataclass(frozen=True, slots=True)
class HeadAndTail:
    """A journal's first records and its last ones, read without the middle."""

    header: dict[str, Any]  # {} unless line 1 is a whole JSON object
    first: dict[str, Any]  # the object on line 2 ({} if none)
    last: list[dict[str, Any]]  # the objects on the whole lines of the last ``tail_bytes``
    torn: bool  # the last line was cut off (``is_torn``)


def read_head_and_tail(path: Path, tail_bytes: int, head_line_limit: int) -> HeadAndTail:
    """Lines 1 and 2 (each read up to ``head_line_limit`` bytes) and the last ``tail_bytes``.

    For summaries of hundreds of sessions: a journal's size does not matter. An
    unreadable file raises ``OSError``, for the caller to skip.
    """
    with path.open("rb") as handle:
        header_raw = handle.readline(head_line_limit)
        first_raw = handle.readline(head_line_limit)
        size = os.fstat(handle.fileno()).st_size
        start = max(0, size - tail_bytes)
        handle.seek(start)
        tail = handle.read()
    header = (parse_line(header_raw) if header_raw.endswith(b"\n") else None) or {}
    records, torn = _tail_records(tail, cut=start > 0)
    return HeadAndTail(header, parse_line(first_raw) or {}, records, torn)


def _tail_records(tail: bytes, *, cut: bool) -> tuple[list[dict[str, Any]], bool]:
    """The objects in the last bytes of a journal, and whether its last line is torn."""
    lines = tail.split(b"\n")
    fragment = lines.pop()  # after the last newline: empty, or a line cut mid-write
    if cut and lines:
        lines.pop(0)  # the read began mid-line
    torn = False
    if fragment:
        # Lacking only its newline, a whole event is kept (as reader.load does).
        torn = is_torn(fragment)
        if not torn:
            lines.append(fragment)
    return [value for value in map(parse_line, lines) if value is not None], torn


_ACCEPTED = re.compile(rb'"kind"\s*:\s*"damaged_line_accepted"')


def accepted_damage(path: Path) -> dict[int, int]:
    """Damaged lines a resume accepted (``damaged_line_accepted``): damaged line -> the line saying so.

    Reads every line, decoding only those of that kind.
    """
    found: dict[int, int] = {}
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if b"damaged_line_accepted" not in raw or _ACCEPTED.search(raw) is None:
                continue
            data = parse_line(raw)
            if data is not None and isinstance(data.get("line"), int):
                found[data["line"]] = number
    return found
