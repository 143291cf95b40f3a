"""The app's own messages, in one place."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from ..core.events import Event


@dataclass
class SessionEvent(Message):
    """One engine event (never an output line: those are batched, see ProcedureScreen)."""

    event: Event


@dataclass
class RunEnded(Message):
    """A run worker (one step, or run-all) returned or raised."""

    what: str
    error: str = ""
