"""``strip_ansi`` takes a quick path for colour; it must give what the whole escape grammar gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from runbook_tui.core import ansi

# Fragments that meet at their edges in every way: colours, other CSI, OSC and DCS strings
# (with and without their terminator), lone ESC and C1 CSI, and plain text, wide or not.
FRAGMENTS = [
    "\x1b[31m",
    "\x1b[0m",
    "\x1b[38:5:196m",
    "\x1b[1;33m",
    "\x1b[2J",
    "\x1b[?25l",
    "\x1b]0;title\x07",
    "\x1b]8;;http://x\x1b\\",
    "\x1b]unterminated",
    "\x1bP1$r\x1b\\",
    "\x1b(B",
    "\x1b",
    "\x9b",
    "\x9b2J",
    "[2J",
    "m",
    "\x07",
    "\\",
    "text",
    "漢字",
    " ",
    "1",
    ";",
]


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=12))
def test_strip_ansi_equals_the_whole_grammar_in_one_pass(parts: list[str]) -> None:
    text = "".join(parts)
    assert ansi.strip_ansi(text) == ansi._ESCAPE.sub("", text)


def test_the_forms_the_pane_and_journal_meet() -> None:
    assert ansi.strip_ansi("\x1b[1;32mok\x1b[0m") == "ok"
    assert ansi.strip_ansi("\x1b\x1b[31m[2J") == "[2J"  # a lone ESC does not join what follows the colour
    assert ansi.strip_ansi("\x9b1\x1b[0m2J") == "\x9b12J"  # nor does a C1 CSI broken by a colour
    assert ansi.strip_ansi("wide 漢字 \x1b[32mgreen\x1b[0m") == "wide 漢字 green"
