"""Terminal escape sequences: the one place that strips them, and that makes them inert.

Three forms of a line of step output:

- ``strip_ansi``: no escape sequences at all; what the journal keeps.
- ``display_ansi``: SGR colour kept, every other control made visible text
  (ESC shown as ``␛``, other C0 controls as their Control Pictures); what the
  app's log pane renders.
- ``inert(text, colour=...)``: the same for a terminal, with colour only when asked
  (``--plain`` asks on a tty without ``NO_COLOR``).

A step's output must never drive the engineer's terminal: OSC 52 writes the
clipboard, OSC 0 the title, CSI moves the cursor or clears the screen, DCS talks
to the terminal itself. Shown as text, each is harmless and still readable.
"""

from __future__ import annotations

import re

# What follows an ESC: CSI (colours, cursor moves), OSC (titles, hyperlinks; ended by
# BEL or ST), DCS/SOS/PM/APC strings, and the two-byte escapes (ESC and one char).
_AFTER_ESC = (
    r"\[[0-?]*[ -/]*[@-~]"
    r"|\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|[PX^_][^\x1b]*(?:\x1b\\)?"
    r"|[ -/]*[0-~]"
)
_ESCAPE = re.compile(r"\x1b(?:" + _AFTER_ESC + r")?|\x9b[0-?]*[ -/]*[@-~]")
_SGR = r"\x1b\[[0-9;:]*m"
_SGR_ONLY = re.compile(_SGR)
# Every escape sequence but an SGR colour, and every C1 control: what the log pane drops.
_NOT_SGR = re.compile(r"\x1b(?!\[[0-9;:]*m)(?:" + _AFTER_ESC + r")?|[\x80-\x9f]")
# An SGR sequence, or one control character: every C0 but tab, DEL, and C1.
_TOKEN = re.compile(_SGR + r"|[\x00-\x08\x0a-\x1f\x7f-\x9f]")
_ANY_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # newline excepted: it joins lines


def strip_ansi(text: str) -> str:
    """``text`` without terminal escape sequences (colours, cursor moves, titles)."""
    if "\x1b" not in text:
        return text if "\x9b" not in text else _ESCAPE.sub("", text)  # the common case: two scans
    # Colour is nearly every escape a step prints, and the plain SGR pattern is ~1.5x quicker
    # than the whole grammar (whose alternatives start ESC or CSI, so no literal prefix). When
    # no ESC or CSI is left after it, the result is what the whole grammar would have given.
    plain = _SGR_ONLY.sub("", text)
    if "\x1b" not in plain and (plain.isascii() or "\x9b" not in plain):
        return plain
    return _ESCAPE.sub("", text)


def keep_sgr_only(text: str) -> str:
    """``text`` with SGR colour kept and every other escape sequence and C1 control removed.

    The log pane's form of a line written to it directly: colours are shown, nothing
    else is interpreted (an OSC 8 link or a cursor move never reaches the renderer).
    """
    return _NOT_SGR.sub("", text)


def visible(char: str) -> str:
    """A control character as text: ESC ``␛``, C0 its Control Picture, DEL ``␡``, C1 ``␛`` + 7-bit form."""
    code = ord(char)
    if code == 0x1B:
        return "␛"
    if code < 0x20:
        return chr(0x2400 + code)
    if code == 0x7F:
        return "␡"
    return "␛" + chr(code - 0x40)  # C1: 0x9b (CSI) reads as ␛[


def _keep_sgr(match: re.Match[str]) -> str:
    token = match.group()
    return token if len(token) > 1 else visible(token)


def _drop_sgr(match: re.Match[str]) -> str:
    token = match.group()
    return "" if len(token) > 1 else visible(token)


def inert(text: str, *, colour: bool) -> str:
    """``text`` safe for a terminal: SGR kept if ``colour`` (else removed), every other control shown as text.

    Tab passes as it is. The sequence after a neutralised ESC stays as printable
    text, so ``ESC ] 52 ; ...`` reads ``␛]52;...``.
    """
    if text.isprintable():
        return text  # no control characters (the common case; one C-speed scan)
    return _TOKEN.sub(_keep_sgr if colour else _drop_sgr, text)


def display_ansi(text: str) -> str:
    """The display form of a line: SGR colour kept, every other control made visible."""
    return inert(text, colour=True)


def split_display(lines: list[str], joined: str) -> tuple[list[str], list[str]]:
    """Each line's plain text (for the journal) and display form ("" when it is the plain text).

    ``joined`` is the lines joined with newlines: one scan of it tells whether any
    line has a control character at all, and usually none has.
    """
    if _ANY_CONTROL.search(joined) is None:
        return lines, [""] * len(lines)
    texts = [strip_ansi(line) for line in lines]
    shown = [display_ansi(line) for line in lines]
    return texts, [s if s != t else "" for s, t in zip(shown, texts, strict=True)]
