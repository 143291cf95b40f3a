"""A live log pane on Textual's line API: renders only visible lines, memory bounded.

``RichLog`` written line by line is ~100x slower; this keeps raw lines in a list
(pruned to ``max_lines``), parses ANSI colours only for lines on screen (with an
LRU cache of strips), follows the tail unless the engineer scrolled away, and
searches the kept lines.

Over a slow link every repaint costs bytes, so the pane repaints on a budget:
lines are kept as they arrive, and the screen is brought up to date at most
``refresh_rate`` times a second (:meth:`flush` shows the last lines at once when
the stream stops). With ``low_bandwidth`` the pane shows only the newest line
and a count while it follows a running step; scrolling or pausing shows it all.
Only SGR colours are shown; every other control sequence is dropped, never
interpreted, and nothing in a line is read as markup.
"""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.events import MouseScrollUp, Resize
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer

from ...core.ansi import keep_sgr_only, strip_ansi

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f]")  # C0 controls but tab, newline and ESC
# Rendered lines kept: a few screens. Each Strip drags ~15 objects (its own caches) into
# the heap the cyclic GC walks; 1,024 of them made full collections ~40% longer in a flood.
CACHE_STRIPS = 256
DEFAULT_REFRESH_RATE = 10.0  # repaints a second while output floods (config: refresh)
LOW_BANDWIDTH_REFRESH_RATE = 4.0  # with --low-bandwidth
# While following a flood the vertical scrollbar (a dozen cells, each with its own colour
# codes) is brought up to date at most this often; the lines themselves on the budget.
SCROLLBAR_SECONDS = 1.0
# And at most about this many bytes a second: a repaint of coloured lines costs several
# times a plain one (each run of one colour carries ~40 bytes of codes), so it comes less often.
BYTE_BUDGET = 12 * 1024
LOW_BANDWIDTH_BYTE_BUDGET = 6 * 1024
_CODES_PER_RUN = 40  # bytes of cursor and colour codes a terminal gets per run of one style
_MATCH = Style(reverse=True)
_DIM = Style(dim=True)
_CURRENT = Style(bgcolor="yellow", color="black", bold=True)


def _clean(line: str) -> str:
    # The fast path (plain ASCII without tabs or control bytes) is a couple of checks.
    if "\t" in line:
        line = line.expandtabs()
    if not line.isprintable():
        if "\x1b" in line or not line.isascii():
            line = keep_sgr_only(line)  # an escape other than colour is dropped, never interpreted
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
    if "\t" not in joined and "\x1b" not in joined and _CONTROL.search(joined) is None:
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
        refresh_rate: float = DEFAULT_REFRESH_RATE,
        low_bandwidth: bool = False,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.max_lines = max_lines
        self.refresh_interval = 1.0 / refresh_rate if refresh_rate > 0 else 0.0
        self.low_bandwidth = low_bandwidth
        self.byte_budget = LOW_BANDWIDTH_BYTE_BUDGET if low_bandwidth else BYTE_BUDGET
        self._gap = self.refresh_interval  # the wait after the last repaint (its cost / the budget)
        self.streaming = False
        """A step is writing to this pane now (the screen says so); with ``low_bandwidth``
        the pane then shows only its newest line while it follows."""
        self._dirty = False  # lines kept that the screen does not show yet
        self._painted_at = 0.0
        self._paint_timer: Timer | None = None
        self._compact_shown = False  # the whole pane was last painted compact
        self._bar_at = 0.0  # when the vertical scrollbar was last brought up to date
        self._bar_due = True
        self._bar_stale = False  # a paint left the vertical scrollbar behind
        self.paints = 0  # repaints asked for by new lines (tests and the benchmark read it)
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
        first = self._dropped + len(self._lines)
        self._lines.extend(new)
        self._width = max(self._width, width)
        if self._query:
            needle = self._query.lower()
            self._matches.extend(
                first + i for i, line in enumerate(new) if needle in strip_ansi(line).lower()
            )
        self._prune()
        self._dirty = True
        self._schedule_paint()

    def flush(self) -> None:
        """Show the kept lines now, whatever the budget (the stream stopped, or the view changed)."""
        if self._paint_timer is not None:
            self._paint_timer.stop()
            self._paint_timer = None
        if self._dirty or self._bar_stale:
            self._paint(final=True)

    def _schedule_paint(self) -> None:
        """Repaint now if the budget allows, else once when it does (one timer at a time)."""
        if self._paint_timer is not None:
            return
        wait = self._painted_at + self._gap - time.monotonic()
        if wait <= 0:
            self._paint()
        else:
            self._paint_timer = self.set_timer(wait, self._paint_due, name="log-paint")

    def _paint_due(self) -> None:
        self._paint_timer = None
        if self._dirty:
            self._paint()

    @property
    def compact(self) -> bool:
        """Showing only the newest line and a count (low bandwidth, following a running step)."""
        return self.low_bandwidth and self.follow and self.streaming

    def _paint(self, final: bool = False) -> None:
        """Bring the screen up to date with the kept lines: size, follow, one refresh."""
        self._dirty = False
        self._painted_at = time.monotonic()
        self.paints += 1
        self._gap = max(self.refresh_interval, self._paint_cost() / self.byte_budget)
        if self.compact:
            # Two rows change; the rest of the pane stays as it is (blank).
            if self._compact_shown:
                self.refresh(Region(0, 0, self._lines_region().width, 2))
            else:
                self._compact_shown = True
                self.refresh()
            return
        self._compact_shown = False
        now = self._painted_at
        self._bar_due = final or not self.follow or now - self._bar_at >= SCROLLBAR_SECONDS
        self._bar_stale = not self._bar_due
        if self._bar_due:
            self._bar_at = now
        at_end = self.is_vertical_scroll_end or self.max_scroll_y == 0
        self._set_virtual_size(Size(self._width, len(self._lines)))
        if self.follow and (at_end or not self.is_vertical_scrollbar_grabbed):
            self._to_tail()
            # The layout (a scrollbar appearing) can move the end: snap to it once it is done.
            self.call_after_refresh(self._snap_to_tail)
        # The content only: a whole-widget refresh repaints the scrollbars too, cell by cell.
        self.refresh(self._lines_region())

    def _set_virtual_size(self, size: Size) -> None:
        """The new size without a whole-widget repaint.

        Assigning ``virtual_size`` marks the whole widget dirty, scrollbars included, and the
        terminal gets every scrollbar cell again on each repaint. Only when a scrollbar
        appears or goes does the layout change.
        """
        if size == self.virtual_size:
            return
        bars = (self.show_vertical_scrollbar, self.show_horizontal_scrollbar)
        self.set_reactive(ScrollView.virtual_size, size)
        self._scroll_update(size)
        if bars != (self.show_vertical_scrollbar, self.show_horizontal_scrollbar):
            self.refresh(layout=True)

    def _paint_cost(self) -> int:
        """Roughly the bytes a repaint sends: the cells of the lines shown, and their colour codes."""
        width = self.size.width
        rows = 2 if self.compact else self.size.height
        shown = self._lines[-rows:] if self.follow else self._lines[round(self.scroll_y) :][:rows]
        return sum(min(width, len(line)) + _CODES_PER_RUN * (1 + line.count("\x1b[")) for line in shown)

    def _lines_region(self) -> Region:
        """The lines, without the scrollbar beside them (which is repainted on its own)."""
        return Region(0, 0, self.scrollable_content_region.width, self.size.height)

    def _to_tail(self) -> None:
        """Scroll to the last line now, without a second repaint."""
        y = self.max_scroll_y
        self.set_reactive(ScrollView.scroll_target_y, float(y))
        if round(self.scroll_y) != y:
            self.set_scroll(None, y)
        if self._bar_due and self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = y

    def _scroll_update(self, virtual_size: Size) -> None:
        # Textual's own (``Widget._scroll_update``) repaints both scrollbars whenever the virtual
        # size changes. In a flood only the height changes: the horizontal bar (~1.6 KB of colour
        # codes at 80 columns) is repainted only when its numbers change, and the vertical one
        # at most once a second while following (``_bar_due``).
        self._refresh_scrollbars()
        width, height = self.container_size
        if self.show_vertical_scrollbar and self.styles.scrollbar_size_vertical and self._bar_due:
            bar = self.vertical_scrollbar
            bar.window_virtual_size = virtual_size.height
            bar.window_size = height - self.scrollbar_size_horizontal
        if self.show_horizontal_scrollbar and self.styles.scrollbar_size_horizontal:
            bar = self.horizontal_scrollbar
            bar.window_virtual_size = virtual_size.width
            bar.window_size = width - self.scrollbar_size_vertical
        self.scroll_x = self.validate_scroll_x(self.scroll_x)
        self.scroll_y = self.validate_scroll_y(self.scroll_y)

    def _snap_to_tail(self) -> None:
        if self.follow and not self.compact and round(self.scroll_y) != self.max_scroll_y:
            self._to_tail()
            self.refresh(self._lines_region())

    def set_streaming(self, streaming: bool) -> None:
        """The screen says whether a step is writing here; the pane shows all of it when not."""
        if streaming == self.streaming:
            return
        self.streaming = streaming
        if self.low_bandwidth:
            self._dirty = True
            self.flush()

    def clear(self) -> None:
        """Forget every line."""
        self._lines.clear()
        self._dropped = 0
        self._width = 0
        self._cache.clear()
        self._matches.clear()
        self._current = None
        self._dirty = False
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
        if self.low_bandwidth and self.streaming and not follow:
            # Leaving the compact view: the whole pane, at the tail, before any scroll moves it.
            self.virtual_size = Size(self._width, len(self._lines))
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
            self._compact_shown = False
            self.refresh()
        if follow and self._lines:
            self._dirty = True
            self.flush()
            self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)
            self.refresh()
        self.post_message(self.FollowChanged(self, follow))

    def _on_resize(self, event: Resize) -> None:
        # A smaller pane (the step detail above it grew, e.g. when a step ends) keeps its
        # scroll offset, which hides the last lines under the bottom edge: a pane that
        # follows stays at the tail.
        self._snap_to_tail()

    def action_toggle_follow(self) -> None:
        """Turn following the tail on or off."""
        self.follow = not self.follow

    def action_tail(self) -> None:
        self.follow = True
        self.scroll_end(animate=False, immediate=True, x_axis=False, force=True)

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
        width = self.size.width
        style = self.rich_style
        if self.compact:
            return self._compact_line(y, width, style)
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        if index >= len(self._lines):
            return Strip.blank(width, style)
        strip = self._line_strip(index, style)
        return strip.crop_extend(scroll_x, scroll_x + width, style).apply_offsets(scroll_x, index)

    def _compact_line(self, y: int, width: int, style: Style) -> Strip:
        """Low bandwidth: the newest line, then how many came before it; the rest blank."""
        total = self._dropped + len(self._lines)
        if y == 0 and self._lines:
            return self._line_strip(len(self._lines) - 1, style).crop_extend(0, width, style)
        if y == 1 and total > 1:
            text = f"… {total - 1:,} lines before it · ↑ or f pauses to read them"
            return Strip([Segment(text[:width], style + _DIM)]).extend_cell_length(width, style)
        return Strip.blank(width, style)

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
