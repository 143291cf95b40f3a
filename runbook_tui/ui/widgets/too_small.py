"""Shown instead of a broken layout when the terminal is smaller than 80x24."""

from __future__ import annotations

from textual.widgets import Static

MIN_WIDTH, MIN_HEIGHT = 80, 24


def too_small(width: int, height: int) -> bool:
    """Below the size every screen is designed for."""
    return width < MIN_WIDTH or height < MIN_HEIGHT


def message(width: int, height: int) -> str:
    """What the engineer reads instead of a squashed screen."""
    return (
        f"The terminal is {width}x{height}; runbook-tui needs at least {MIN_WIDTH}x{MIN_HEIGHT}.\n"
        "Enlarge the window or zoom out. Nothing is lost meanwhile:\n"
        "running steps go on, and everything is in the journal."
    )


class TooSmall(Static):
    """Hidden until its screen gets the ``-too-small`` class (see BaseScreen)."""

    def show_size(self, width: int, height: int) -> None:
        self.update(message(width, height))
