"""Durations and recovery windows as people write them."""

from __future__ import annotations

import math

import pytest

from runbook_tui.core.durations import DurationError, Window, format_seconds, parse_duration, parse_window


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("5m", 300),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("2 min", 120),
        ("30 seconds", 30),
        ("1 hour", 3600),
        ("2 days", 172800),
        ("5M", 300),
        (" 90 ", 90),
        ("90", 90),
        ("1.5m", 90),
        ("500ms", 0.5),
        (45, 45),
        (2.5, 2.5),
        ("0", 0),
    ],
)
def test_parse_duration_reads_what_people_write(text: str | int | float, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text",
    ["", "soon", "5 fortnights", "-5", "5m30", "1e9", "5 minutes.", True, -1, math.nan, math.inf],
)
def test_parse_duration_rejects_with_a_hint(text: str | int | float) -> None:
    with pytest.raises(DurationError) as info:
        parse_duration(text)
    assert "90s" in str(info.value)  # the message says how to write it


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("< 5 minutes", None, 300),
        ("<1 minute", None, 60),
        ("<= 2 min", None, 120),
        ("within 10 min", None, 600),
        ("Within 10 min", None, 600),
        ("under 1 hour", None, 3600),
        ("up to 30s", None, 30),
        ("less than 2 hours", None, 7200),
        ("10-30 minutes", 600, 1800),
        ("10 - 30 minutes", 600, 1800),
        ("10–30 minutes", 600, 1800),
        ("10 to 30 minutes", 600, 1800),
        ("30s-2m", 30, 120),
        ("1-2h", 3600, 7200),
        ("5m", None, 300),
        ("(2 min)", None, 120),
        (300, None, 300),
    ],
)
def test_parse_window(text: str | int, low: float | None, high: float) -> None:
    window = parse_window(text)
    assert (window.low, window.high) == (low, high)
    assert window.target_seconds == high
    assert window.text == str(text).strip()


@pytest.mark.parametrize("text", ["", "()", "<", "within", "30-10 minutes", "1h-30m", "soon", "5-10"])
def test_parse_window_rejects(text: str) -> None:
    with pytest.raises(DurationError):
        parse_window(text)


def test_window_ends_before_it_starts_says_so() -> None:
    with pytest.raises(DurationError, match="ends before it starts"):
        parse_window("30-10 minutes")


def test_window_is_frozen() -> None:
    window = Window("5m", None, 300)
    with pytest.raises(AttributeError):
        window.high = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.5, "0.5s"),
        (9.5, "9.5s"),
        (9.96, "10s"),  # rounds to a whole number: no "10.0s"
        (45, "45s"),
        (59.6, "1m00s"),
        (75, "1m15s"),
        (600, "10m00s"),
        (3600, "1h00m"),
        (5400, "1h30m"),
        (-5, "-5s"),  # time left after a window closed
        (-75, "-1m15s"),
    ],
)
def test_format_seconds(seconds: float, text: str) -> None:
    assert format_seconds(seconds) == text
