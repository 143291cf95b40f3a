"""The recovery clock: elapsed time against the procedure's window, and decision deadlines.

Every window runs from the session's start, and its level comes from the same pure
function the engine uses (``core/engine/windows.py``), so the screen and the report agree.
The clock announces nothing on its own: the screen hands it the engine's
``window_warning`` / ``window_breached`` events (:meth:`RecoveryClock.crossed`), and it
posts :class:`RecoveryClock.Crossed` once for each. The time source is injectable
(``clock``) so snapshots stay still and tests can move time forward.
Each second only the cells that changed are sent to the terminal (usually the last
digit or two), not the whole line: over a slow link that is most of what an idle
screen costs. Warning and breach are said in words, not only colour.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rich.cells import cell_len
from textual.content import Content
from textual.geometry import Region
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from ...core.durations import format_seconds
from ...core.engine import windows

Clock = Callable[[], float]
WARN_AT = windows.WARN_AT


@dataclass(frozen=True)
class Countdown:
    """A window being timed: ``scope`` is "procedure" or a decision row id."""

    scope: str
    label: str
    started_at: float
    target: float


def level(elapsed: float, target: float | None) -> str:
    """``ok``, ``warning`` (80% of the window gone) or ``breach`` (past it): ``core.engine.windows.level``."""
    return windows.level(elapsed, target)


def clock_text(seconds: float) -> str:
    """``MM:SS`` under an hour, ``H:MM:SS`` after."""
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def local_time(at: float) -> str:
    """Wall-clock time in the engineer's zone (the journal keeps UTC)."""
    return datetime.fromtimestamp(at).astimezone().strftime("%H:%M %Z").strip()


class RecoveryClock(Widget):
    """One line: procedure time against its window, session time, deadlines, local time."""

    session_started: reactive[float | None] = reactive(None)
    procedure: reactive[Countdown | None] = reactive(None)
    deadlines: reactive[tuple[Countdown, ...]] = reactive(())
    target: reactive[float | None] = reactive(None)
    """The procedure's window, shown before the first step starts its countdown."""
    stopped_at: reactive[float | None] = reactive(None)
    """When the session finished; the clock stops there."""

    @dataclass
    class Crossed(Message):
        """A window reached ``warning`` or ``breach`` for the first time."""

        scope: str
        label: str
        level: str
        elapsed: float
        target: float

    def __init__(
        self, clock: Clock = time.time, *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.clock = clock
        self._announced: set[tuple[str, str]] = set()
        self._shown: tuple[str, list[tuple[int, int, str]]] | None = None  # what is on screen

    def on_mount(self) -> None:
        self.set_interval(1.0, self.tick)

    def tick(self) -> None:
        """Re-render; the colour follows the worst window's level now."""
        now = self._now()
        worst = "ok"
        for countdown in self._countdowns():
            lvl = level(now - countdown.started_at, countdown.target)
            if lvl == "breach" or (lvl == "warning" and worst == "ok"):
                worst = lvl
        self.set_class(worst == "warning", "-warning")
        self.set_class(worst == "breach", "-breach")
        self._refresh_changed()

    def _refresh_changed(self) -> None:
        """Repaint only the span of cells that differs from what is on screen."""
        content = self.render()
        shown = (content.plain, [(s.start, s.end, str(s.style)) for s in content.spans])
        old, self._shown = self._shown, shown
        if old is None or old[1] != shown[1] or len(old[0]) != len(shown[0]):
            self.refresh()
            return
        before, after = old[0], shown[0]
        changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
        if not changed:
            return
        start = cell_len(after[: changed[0]])
        end = cell_len(after[: changed[-1] + 1])
        self.refresh(Region(start, 0, end - start, 1))

    def seen(self, scope: str, lvl: str) -> None:
        """A crossing announced before (a resumed session's): :meth:`crossed` stays quiet about it."""
        self._announced.add((scope, lvl))

    def crossed(self, scope: str, lvl: str, elapsed: float, target: float) -> None:
        """The engine recorded a warning or breach: announce it once (``Crossed``) and re-render."""
        if (scope, lvl) in self._announced:
            return
        self._announced.add((scope, lvl))
        countdown = next((c for c in self._countdowns() if c.scope == scope), None)
        label = countdown.label if countdown else scope
        self.post_message(self.Crossed(scope, label, lvl, elapsed, target))
        self.tick()

    def _now(self) -> float:
        return self.stopped_at if self.stopped_at is not None else self.clock()

    def _countdowns(self) -> list[Countdown]:
        items = [self.procedure] if self.procedure else []
        return items + list(self.deadlines)

    def watch_procedure(self) -> None:
        self.tick()

    def watch_deadlines(self) -> None:
        self.tick()

    def watch_session_started(self) -> None:
        self.tick()

    def render(self) -> Content:
        now = self._now()
        parts: list[str | tuple[str, str]] = []
        proc = self.procedure
        if proc is None:
            window = f"window {clock_text(self.target)}" if self.target else "no window"
            parts.append((f"{window}, starts with the session", "dim"))
        if proc is not None:
            elapsed = max(0.0, now - proc.started_at)  # an injected (still) clock may be before the start
            parts.append(("window ", "dim"))
            parts.append((clock_text(elapsed), "bold"))
            if proc.target:
                lvl = level(elapsed, proc.target)
                parts.append((f"/{clock_text(proc.target)} ", "dim"))
                parts.extend(_bar(elapsed / proc.target, lvl))
                if lvl == "breach":
                    parts.append((f" ✘ breach: over by {format_seconds(elapsed - proc.target)}", _STYLE[lvl]))
                elif lvl == "warning":
                    parts.append((" ⚠ 80% gone", _STYLE[lvl]))
            else:
                parts.append((" no window", "dim"))
        if self.session_started is not None:
            parts.append(("  session ", "dim"))
            parts.append(clock_text(now - self.session_started))
        for deadline in self.deadlines:
            spent = now - deadline.started_at
            left = deadline.target - spent
            parts.append((f"  {deadline.label} ", "dim"))
            if left >= 0:
                parts.append((f"{clock_text(left)} left", _STYLE[level(spent, deadline.target)]))
            else:
                parts.append((f"{clock_text(-left)} over", _STYLE["breach"]))
        parts.append((f"  {local_time(now)}", "dim"))
        return Content.assemble(*parts)


# Theme variables, so the clock follows whichever Textual theme is active.
_STYLE = {"ok": "", "warning": "bold $warning", "breach": "bold $error"}
_BAR = {"ok": "$success", "warning": "$warning", "breach": "$error"}


def _bar(fraction: float, lvl: str, width: int = 8) -> list[str | tuple[str, str]]:
    filled = max(0, min(width, round(fraction * width)))
    return [
        ("█" * filled, _BAR[lvl]),
        ("░" * (width - filled), "dim"),
        (f" {min(999, round(fraction * 100)):>3d}%", _STYLE[lvl]),
    ]
