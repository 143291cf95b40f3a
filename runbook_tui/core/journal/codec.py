"""The journal's line format, both ways: an event to its line of bytes, a line back to its event.

Line 1 of a journal is its header (:func:`new_header`, checked by :func:`decode_header`);
every other line is one event as ``events.to_dict`` gives it, compact JSON ending in
``\n``, and, in a chained journal, the line's hash (``chain.py``) as a last ``"h"`` key.
Output lines, nearly all of a big journal, are written by hand in a fixed field order
(:func:`encode_output`) and read back by the pattern :data:`OUTPUT_LINE` without the
generic decoder.

:func:`is_torn` is the one rule for a last line that lacks its newline, used by every
reader (loading, folding, reopening to append, the report's record stream, the session
list, the live tail): it was cut off by a crash mid-write unless it decodes as a whole
event (one of a newer version's kinds included).
"""

from __future__ import annotations

import json
import operator
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ... import __version__
from ..errors import RunbookTuiError
from ..events import (
    SCHEMA_VERSION,
    Event,
    EventDecodeError,
    OutputLine,
    UnknownEventKind,
    from_dict,
    iso_utc,
    parse_iso_utc,
    to_dict,
)

APP = "runbook-tui"
HEADER_START = b'{"schema":'  # how every header line begins: a fragment of one is a torn header


class JournalError(RunbookTuiError):
    """A journal could not be created, read or appended to; the message names the file."""

    exit_code = 2


def new_header(session_id: str) -> dict[str, Any]:
    """The header's fields (the chain's, when chained, are added by the writer)."""
    return {"schema": SCHEMA_VERSION, "app": APP, "version": __version__, "session_id": session_id}


def encode(event: Event) -> bytes:
    """``event`` as its journal line (with its newline, without its chain hash)."""
    if type(event) is OutputLine:
        return encode_output(event)
    data = to_dict(event)  # never carries ``ansi``
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return (text + "\n").encode("utf-8", "replace")


_quote = json.encoder.encode_basestring
_last_second: list[Any] = [None, ""]  # the second whose "YYYY-MM-DDTHH:MM:SS." was built last


def fast_iso_utc(at: float) -> str:
    """Same text as :func:`events.iso_utc`, for the hot path (the date part is reused within a second)."""
    second, micro = divmod(round(at * 1_000_000), 1_000_000)
    cache = _last_second
    if cache[0] != second:
        cache[1] = iso_utc(float(second))[:20]
        cache[0] = second
    return f"{cache[1]}{micro:06d}Z"


def encode_output(event: OutputLine) -> bytes:
    """An output line as :func:`encode` writes it."""
    # A million lines go through here: format by hand instead of the generic field walk.
    text = (
        f'{{"kind":"output","at":"{fast_iso_utc(event.at)}","step_id":{_quote(event.step_id)},'
        f'"seq":{int(event.seq)},"stream":{_quote(event.stream)},"text":{_quote(event.text)}}}\n'
    )
    return text.encode("utf-8", "replace")


_SHARED = operator.attrgetter("at", "step_id", "stream")


def encode_outputs(events: Sequence[OutputLine]) -> bytes:
    """``b"".join(map(encode_output, events))``, sharing the parts the lines of a chunk have in common."""
    first = events[0]
    at, step_id, stream = first.at, first.step_id, first.stream
    if not all(map((at, step_id, stream).__eq__, map(_SHARED, events))):  # C speed, no genexpr
        return b"".join(map(encode_output, events))
    head = f'{{"kind":"output","at":"{fast_iso_utc(at)}","step_id":{_quote(step_id)},"seq":'
    middle = f',"stream":{_quote(stream)},"text":'
    quote = _quote
    text = "".join([f"{head}{int(e.seq)}{middle}{quote(e.text)}}}\n" for e in events])
    return text.encode("utf-8", "replace")


# --- decoding ----------------------------------------------------------------

# An output line exactly as ``encode_output`` writes it. A line that matches decodes (as
# JSON, then ``output_event``) to an event built from these groups alone, so it needs no
# decoding unless it ends in a tail; any other line takes the general path, and so gets
# the very same event or complaint as in ``load``. ASCII digits only (``\d`` is Unicode).
# Groups: 1 the second ("YYYY-MM-DDTHH:MM:SS"), 2 the microseconds, 3 step_id, 4 seq,
# 5 stream, 6 text (JSON-escaped).
OUTPUT_LINE = re.compile(
    r'\{"kind":"output","at":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2})\.([0-9]{6})Z",'
    r'"step_id":"([^"\\\x00-\x1f]*)","seq":(-?(?:0|[1-9][0-9]{0,99})),"stream":"([^"\\\x00-\x1f]*)",'
    r'"text":"((?:[^"\\\x00-\x1f]++|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*+)"'
    r'(?:,"h":"[0-9a-f]{8}-[0-9a-f]{24}")?\}\n'  # the chain hash (chain.py), if any
)
# The same, matched on a line without its newline (the live tail splits on newlines).
OUTPUT_LINE_BARE = re.compile(OUTPUT_LINE.pattern.removesuffix(r"\n"))

# The start of an output line as ``encode_output`` writes it, up to its step id: the
# report's fast path (:func:`output_step_id`) reads no further. One regex call is about
# twice as fast as finding and slicing the quotes by hand.
_OUTPUT_STEP_ID = re.compile(rb'\{"kind":"output","at":"[^"]*","step_id":"([^"\\]*)"').match


def output_step_id(line: bytes) -> bytes | None:
    """The raw step id of an output line as :func:`encode_output` writes it, without decoding it.

    None for any other line, or an id with an escape in it: decode those. The report counts a
    million output lines with this and decodes only the few left in a step's tail.
    """
    m = _OUTPUT_STEP_ID(line)
    return m[1] if m is not None else None


def decode_header(path: Path, line: bytes) -> dict[str, Any]:
    """The header on line 1 (without its newline), checked; a :class:`JournalError` names ``path`` if not."""
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("app") != APP or not isinstance(header.get("schema"), int):
        raise JournalError(f"{path}:1: not a runbook-tui session journal (the first line is not its header)")
    if header["schema"] > SCHEMA_VERSION:
        raise JournalError(
            f"{path}:1: written with journal schema {header['schema']} by runbook-tui "
            f"{header.get('version', '?')}; this version reads schema {SCHEMA_VERSION}: upgrade runbook-tui"
        )
    return header


def decode_into(events: list[Event], problems: list[str], path: Path, number: int, line: bytes) -> bool:
    """Decode line ``number`` (without its newline) into ``events``; what is wrong goes to ``problems``.

    True when the line is an event (appended) or a newer version's event (skipped and
    noted: additive kinds are not damage); False when it cannot be read (noted).
    """
    try:
        data = _json_decode(line.decode("utf-8"))
        if not isinstance(data, dict):
            raise EventDecodeError("not a JSON object")
        event = output_event(data) if data.get("kind") == "output" else None
        events.append(event if event is not None else from_dict(data))
    except UnknownEventKind as exc:  # additive: a newer version's event, skipped and counted, not damage
        problems.append(f"{path}:{number}: {exc} (written by a newer version); skipped")
        return True
    except (ValueError, EventDecodeError) as exc:
        problems.append(f"{path}:{number}: unreadable event, skipped ({exc})")
        return False
    return True


def is_torn(last: bytes) -> bool:
    """Whether a last line without its newline was cut off by a crash mid-write.

    The one rule every reader applies: it is torn unless it decodes as a whole event (or
    as one of a newer version's kinds); a whole event that lacks only its newline is kept.
    """
    return not decode_into([], [], Path(), 0, last)


def match_text(m: re.Match[str]) -> str:
    """The ``text`` of a line matched by :data:`OUTPUT_LINE`, decoded as ``json`` decodes it."""
    raw = m[6]
    return raw if "\\" not in raw else str(_json_decode(f'"{raw}"'))


def match_at(m: re.Match[str]) -> float:
    """The ``at`` of a matched output line; its second was checked when it was matched."""
    whole = second_start(m[1])
    assert whole is not None
    return (whole * 1_000_000 + int(m[2])) / 1_000_000


_json_decode = json.JSONDecoder().decode
_OUTPUT_KEYS = frozenset({"kind", "at", "step_id", "seq", "stream", "text"})
_OUTPUT_KEYS_CHAINED = _OUTPUT_KEYS | {"h"}
# "YYYY-MM-DDTHH:MM:SS" -> whole seconds since the epoch; cleared (never replaced) when full,
# so a reader may hold it for a quick ``in`` before calling :func:`second_start`.
known_seconds: dict[str, int] = {}


def output_event(data: dict[str, Any]) -> OutputLine | None:
    """The hot path of resume: the same event as ``from_dict``, or None to let it decide (and complain)."""
    if data.keys() != _OUTPUT_KEYS and data.keys() != _OUTPUT_KEYS_CHAINED:
        return None
    at, step_id, stream = data["at"], data["step_id"], data["stream"]
    if type(at) is not str or type(step_id) is not str or type(stream) is not str:
        return None
    seconds = _fast_parse_iso(at)
    if seconds is None:
        return None
    # Interned: a million lines share a handful of step ids and stream names.
    return OutputLine(
        step_id=sys.intern(step_id), seq=data["seq"], stream=sys.intern(stream), text=data["text"], at=seconds
    )


def _fast_parse_iso(text: str) -> float | None:
    """``events.parse_iso_utc`` for the ``fast_iso_utc`` form, the date part parsed once per second."""
    if len(text) != 27 or text[19] != "." or text[26] != "Z":
        return None
    micro = text[20:26]
    if not (micro.isascii() and micro.isdigit()):
        return None
    whole = second_start(text[:19])
    if whole is None:
        return None
    # Integer microseconds divided once: the same float timedelta.total_seconds() gives.
    return (whole * 1_000_000 + int(micro)) / 1_000_000


def second_start(head: str) -> int | None:
    """Epoch seconds of ``YYYY-MM-DDTHH:MM:SS`` (UTC), parsed once per second; None if it is no date."""
    whole = known_seconds.get(head)
    if whole is None:
        try:
            whole = int(parse_iso_utc(head + "Z"))
        except ValueError:
            return None
        if len(known_seconds) >= 4096:
            known_seconds.clear()
        known_seconds[head] = whole
    return whole
