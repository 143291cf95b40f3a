"""A live log pane on Textual's line API: renders only visible lines, memory bounded.

``RichLog`` written line by line is ~100x slower; this keeps raw lines in a list
(pruned to ``max_lines``), parses ANSI colours only for lines on screen (with an
LRU cache of strips), follows the tail unless the engineer scrolled away, and
searches the kept lines.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.events import MouseScrollUp
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f]")
# Rendered lines kept: a few screens. Each Strip drags ~15 objects (its own caches) into
# the heap the cyclic GC walks; 1,024 of them made full collections ~40% longer in a flood.
CACHE_STRIPS = 256
_MATCH = Style(reverse=True)
_CURRENT = Style(bgcolor="yellow", color="black", bold=True)


def strip_ansi(text: str) -> str:
    """The text without colour codes or other terminal control sequences."""
    return _ANSI.sub("", text) if "\x1b" in text else text


def _clean(line: str) -> str:
    # The fast path (plain ASCII without tabs or control bytes) is a couple of checks.
    if "\t" in line:
        line = line.expandtabs()
    if not line.isprintable():
        line = _CONTROL.sub("", line)
    return line


def _width(line: str) -> int:
    if line.isascii():
        return len(line) if "\x1b" not in line else len(strip_ansi(line))
    return cell_len(strip_ansi(line))


def _cleaned(batch: list[str]) -> tuple[list[str], int]:
    """The lines made safe to show, and the widest one's cell width.

    A flood is mostly plain lines: one scan of the joined batch tells whether any
    line has a tab, an escape or a control byte, or is not ASCII; only then is
    each line looked at on its own.
    """
    if not batch:
        return [], 0
    joined = "\n".join(batch)
    if "\t" not in joined and _CONTROL.search(joined) is None:
        lines = batch
    else:
        lines = [_clean(line) for line in batch]
        joined = "\n".join(lines)
    if joined.isascii() and "\x1b" not in joined:
        return lines, max(map(len, lines))
    return lines, max(map(_width, lines))


class LogView(ScrollView, can_focus=True):
    """A scrollable, searchable, ANSI-coloured log with a bounded number of lines."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "toggle_follow", "Follow", id="log.follow"),
        Binding("end", "tail", "Tail", show=False, id="log.tail"),
        Binding("home", "head", "Top", show=False, id="log.head"),
    ]

    follow: reactive[bool] = reactive(True)
    """Scroll to new lines as they arrive."""

    @dataclass
    class FollowChanged(Message):
        """Following was turned on or off (the screen shows it)."""

        log: LogView
        follow: bool

    def __init__(
        self,
        *,
        max_lines: int = 20_000,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.max_lines = max_lines
        self._lines: list[str] = []
        self._dropped = 0  # lines pruned from the front, so cache keys stay absolute
        self._width = 0
        self._cache: LRUCache[tuple[int, int], Strip] = LRUCache(CACHE_STRIPS)
        self._query = ""
        self._matches: list[int] = []  # absolute line numbers
        self._current: int | None = None

    # --- content --------------------------------------------------------

    @property
    def line_count(self) -> int:
        """Lines kept in memory (older ones are only in the journal)."""
        return len(self._lines)

    @property
    def dropped(self) -> int:
        """Lines pruned because of ``max_lines``."""
        return self._dropped

    @property
    def lines(self) -> list[str]:
        """The kept lines without colour codes."""
        return [strip_ansi(line) for line in self._lines]

    def write_lines(self, lines: Iterable[str]) -> None:
        """Append lines (ANSI colours allowed); prunes the oldest beyond ``max_lines``."""
        batch = lines if isinstance(lines, list) else list(lines)
        if len(batch) >= self.max_lines:
            # Everything kept so far, and the head of this batch, would be pruned at once:
            # drop them unprocessed (a flood stays cheap).
            self._dropped += len(self._lines) + len(batch) - self.max_lines
            self._lines.clear()
            self._matches.clear()
            self._current = None
            batch = batch[-self.max_lines :]
        new, width = _cleaned(batch)
        if not new:
            return
        at_end = self.is_vertical_scroll_end or self.max_scroll_y == 0
        first = self._dropped + len(self._lines)
        self._lines.extend(new)
        self._width = max(self._width, width)
        if self._query:
            needle = self._query.lower()
            self._matches.extend(
                first + i for i, line in enumerate(new) if needle in strip_ansi(line).lower()
            )
        self._prune()
        self.virtual_size = Size(self._width, len(self._lines))
        if self.follow and (at_end or not self.is_vertical_scrollbar_grabbed):
            # After the refresh, when the new virtual size is in place.
            self.scroll_end(animate=False, x_axis=False)
        self.refresh()

    def clear(self) -> None:
        """Forget every line."""
        self._lines.clear()
        self._dropped = 0
        self._width = 0
        self._cache.clear()
        self._matches.clear()
        self._current = None
        self.virtual_size = Size(0, 0)
        self.refresh()

    def _prune(self) -> None:
        # Prune in chunks so appending stays amortised O(1).
        excess = len(self._lines) - self.max_lines
        if excess <= 0:
            return
        chunk = max(excess, self.max_lines // 10)
        del self._lines[:chunk]
        self._dropped += chunk
        self._matches = [m for m in self._matches if m >= self._dropped]
        if self._current is not None and self._current < self._dropped:
            self._current = None

    # --- follow ---------------------------------------------------------

    def watch_follow(self, follow: bool) -> None:
        if follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.post_message(self.FollowChanged(self, follow))

    def action_toggle_follow(self) -> None:
        """Turn following the tail on or off."""
        self.follow = not self.follow

    def action_tail(self) -> None:
        self.follow = True
        self.scroll_end(animate=False, immediate=True, x_axis=False)

    def action_head(self) -> None:
        self.follow = False
        self.scroll_home(animate=False, immediate=True)

    def _on_mouse_scroll_up(self, event: MouseScrollUp) -> None:
        # Scrolling back through the output stops following, as in every pager.
        self.follow = False
        super()._on_mouse_scroll_up(event)

    def action_scroll_up(self) -> None:
        self.follow = False
        super().action_scroll_up()

    def action_page_up(self) -> None:
        self.follow = False
        super().action_page_up()

    # --- search ---------------------------------------------------------

    @property
    def match_count(self) -> int:
        return len(self._matches)

    @property
    def current_match(self) -> int | None:
        """The absolute line number of the selected match, if any."""
        return self._current

    def search(self, query: str) -> int:
        """Mark every line containing ``query`` (case-insensitive); returns how many."""
        self._query = query
        needle = query.lower()
        self._matches = (
            [self._dropped + i for i, line in enumerate(self._lines) if needle in strip_ansi(line).lower()]
            if query
            else []
        )
        self._current = None
        self._cache.clear()
        self.refresh()
        return len(self._matches)

    def next_match(self, backwards: bool = False) -> int | None:
        """Move to the next (or previous) match and show it; returns its line number."""
        if not self._matches:
            return None
        if self._current is None:
            top = self._dropped + round(self.scroll_y)
            after = [m for m in self._matches if (m < top if backwards else m >= top)]
            self._current = (
                (after[-1] if backwards else after[0]) if after else self._matches[-1 if backwards else 0]
            )
        else:
            pos = self._matches.index(self._current) if self._current in self._matches else 0
            pos = (pos + (-1 if backwards else 1)) % len(self._matches)
            self._current = self._matches[pos]
        self.follow = False
        row = self._current - self._dropped
        self.scroll_to_region(Region(0, row, 1, 1), animate=False, center=True, immediate=True)
        self._cache.clear()
        self.refresh()
        return self._current

    # --- rendering ------------------------------------------------------

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.size.width
        style = self.rich_style
        if index >= len(self._lines):
            return Strip.blank(width, style)
        strip = self._line_strip(index, style)
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_offsets(scroll_x, index)

    def _line_strip(self, index: int, style: Style) -> Strip:
        absolute = self._dropped + index
        key = (absolute, hash(style))
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        line = self._lines[index]
        if "\x1b" not in line and not (self._query and self._is_match(absolute)):
            # A plain line is one segment in the pane's style: no ANSI parse, no Text.
            width = len(line) if line.isascii() else cell_len(line)
            strip = Strip([Segment(line, style) if line else Segment("")], width)
            self._cache[key] = strip
            return strip
        text = Text.from_ansi(line, no_wrap=True, end="")
        text.stylize_before(style)
        if self._query and self._is_match(absolute):
            self._highlight(text, _CURRENT if absolute == self._current else _MATCH)
        strip = Strip(text.render(self.app.console), text.cell_len)
        self._cache[key] = strip
        return strip

    def _is_match(self, absolute: int) -> bool:
        pos = bisect.bisect_left(self._matches, absolute)
        return pos < len(self._matches) and self._matches[pos] == absolute

    def _highlight(self, text: Text, style: Style) -> None:
        needle = self._query.lower()
        plain = text.plain.lower()
        start = plain.find(needle)
        while start != -1:
            text.stylize(style, start, start + len(needle))
            start = plain.find(needle, start + len(needle))
