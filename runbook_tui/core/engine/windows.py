"""One clock: which recovery-window warnings and breaches are due, as a pure function.

Every window (the procedure's recovery window and a decision row's deadline) runs
from the session's start, when the procedure was opened. The engine's clock task,
the run screen's clock and the drill score all ask this module, so the screen, the
journal and the report can never disagree about a breach. The impact start a
session may record feeds only the incident metrics (time to detect, mitigate, ...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

WARN_AT = 0.8  # share of a window after which the clock warns
OK, WARNING, BREACH = "ok", "warning", "breach"


@dataclass(frozen=True, slots=True)
class Window:
    """A target to keep: ``scope`` is "procedure" or a decision row id; ``target`` in seconds."""

    scope: str
    target: float


@dataclass(frozen=True, slots=True)
class Crossing:
    """A window reaching ``warning`` (80% gone) or ``breach`` (past it)."""

    scope: str
    level: str
    elapsed: float
    target: float


@dataclass(frozen=True, slots=True)
class Due:
    """What :func:`due` found: the crossings to announce now, and seconds until the next one."""

    crossings: tuple[Crossing, ...]
    next_in: float | None


def level(elapsed: float, target: float | None) -> str:
    """``ok``, ``warning`` (at least 80% of the window gone) or ``breach`` (past it)."""
    if not target:
        return OK
    if elapsed > target:
        return BREACH
    if elapsed >= WARN_AT * target:
        return WARNING
    return OK


def windows_of(
    target_seconds: float | None, decision: tuple[str, float | None] | None = None
) -> tuple[Window, ...]:
    """The windows a session keeps: the procedure's, and the deadline of the decision row picked."""
    found: list[Window] = []
    if target_seconds is not None:
        found.append(Window("procedure", float(target_seconds)))
    if decision is not None and decision[1]:
        found.append(Window(decision[0], float(decision[1])))
    return tuple(found)


def due(
    windows: Iterable[Window],
    session_started: float,
    now: float,
    *,
    warned: Iterable[str] = (),
    breached: Iterable[str] = (),
) -> Due:
    """The crossings due at ``now`` that were not announced yet, and when the next one falls due.

    A window past its target is a breach (its warning is then not announced on its
    own); one at 80% or more is a warning. ``warned`` and ``breached`` are the scopes
    already announced, so each crossing is announced once.
    """
    elapsed = now - session_started
    warned_set, breached_set = set(warned), set(breached)
    crossings: list[Crossing] = []
    next_in: float | None = None
    for window in windows:
        scope, target = window.scope, window.target
        if scope in breached_set:
            continue
        lvl = level(elapsed, target)
        if lvl == BREACH:
            crossings.append(Crossing(scope, BREACH, elapsed, target))
            continue
        if lvl == WARNING and scope not in warned_set:
            crossings.append(Crossing(scope, WARNING, elapsed, target))
            warned_set.add(scope)
        wait = (target if scope in warned_set else WARN_AT * target) - elapsed
        next_in = wait if next_in is None else min(next_in, wait)
    return Due(tuple(crossings), next_in)
