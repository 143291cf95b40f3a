"""The log pane keeps colour only: other escapes are dropped, and text search and ``lines`` see no codes."""

from __future__ import annotations

from textual.app import App, ComposeResult

from runbook_tui.ui.widgets.log_view import LogView

RAW = [
    "\x1b[1;31mERROR\x1b[0m disk full",  # colour: kept for display
    "\x1b]8;;http://evil.example\x1b\\click\x1b]8;;\x1b\\ here",  # an OSC 8 link: dropped
    "\x1b[2J\x1b[Hcleared?",  # clear screen and cursor home: dropped
    "\x1b]0;title\x07after the title",  # a window title: dropped
    "tab\there\x07bell",  # a tab expanded, BEL dropped
    "wide 漢字 \x1b[32mgreen\x1b[0m",
]


class Pane(App[None]):
    def compose(self) -> ComposeResult:
        yield LogView(id="log")


async def test_the_pane_keeps_colour_and_drops_every_other_escape() -> None:
    app = Pane()
    async with app.run_test(size=(60, 10)) as pilot:
        log = app.query_one(LogView)
        log.write_lines(RAW)
        log.flush()
        await pilot.pause()
        assert log.lines == [
            "ERROR disk full",
            "click here",
            "cleared?",
            "after the title",
            "tab     herebell",
            "wide 漢字 green",
        ]
        shown = [log.render_line(y).text.rstrip() for y in range(len(RAW))]
        assert shown == log.lines
        red = log.render_line(0)
        assert any(seg.style and seg.style.color and seg.style.color.number == 1 for seg in red)
        assert log.virtual_size.width == len("tab     herebell")
        assert log.search("error disk") == 1 and log.search("green") == 1 and log.search("8;;") == 0
