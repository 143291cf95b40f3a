"""Where a session's events go: the journal, the state fold and every listener, in order.

The :class:`Emitter` owns the record of one session: the journal (and whether it is
still written), the :class:`~..state.StateFolder` every part of the engine reads its
state from, the listeners, and the secret values redacted from everything emitted.
Output lines are its hot path: a chunk of lines costs one clock reading, one journal
write (batched by the journal) and one fold step, however many lines it holds.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from .. import carry
from .. import events as ev
from .. import params as P
from ..ansi import split_display
from ..journal import Journal, JournalWriteError
from ..journal.fold import SessionState, StateFolder

log = logging.getLogger(__name__)

Listener = Callable[[ev.Event], None]


def now() -> float:
    """Epoch seconds rounded to the microsecond: exactly what the journal stores, so a reload is equal."""
    return round(time.time() * 1_000_000) / 1_000_000


class Emitter:
    """Delivers each event, in order, to the journal, the fold and every listener.

    ``recording`` is False once the session stopped writing (closed, hung up, or the
    journal failed): events still fold and reach listeners, the journal is left as it
    was. ``ended`` is True once the session finished: a later event (an undo, a note)
    reopens the journal for itself. ``failure`` is the journal's write error, set on
    the event loop by the session when it stops (nothing may start after it).
    """

    def __init__(self, journal: Journal | None, on_failure: Callable[[JournalWriteError], None]) -> None:
        self.journal: Journal | None = None
        self.folder = StateFolder()
        self.recording = True
        self.ended = False
        self.failure: JournalWriteError | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.loop_thread: int | None = None
        self._on_failure = on_failure
        self._listeners: list[Listener] = []
        self._redact = P.Redactor()
        self._has_secrets = False  # checked once per output chunk, so kept as a plain flag
        self._seq: dict[str, int] = {}  # the last output seq given per step (a resumed one: from the fold)
        self._taps: dict[str, list[str]] = {}  # step id -> its lines kept for a capture
        self.attach(journal)

    # --- reading --------------------------------------------------------------

    @property
    def state(self) -> SessionState:
        """The session so far: a fold over every event emitted (and, on resume, loaded)."""
        return self.folder.state

    def adopt(self, state: SessionState) -> None:
        """Continue from a recorded session's state (resume)."""
        self.folder = StateFolder(state)

    def attach(self, journal: Journal | None) -> None:
        """Write to ``journal`` from now on; its write failures come back through ``on_failure``."""
        self.journal = journal
        if journal is not None:
            journal.on_failure = self.journal_failed

    def bind_loop(self) -> None:
        """The running event loop is the session's: output from other threads is handed to it."""
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """Call ``callback(event)`` for every event from now on, in order; returns an unsubscribe."""
        self._listeners.append(callback)
        return lambda: self._listeners.remove(callback) if callback in self._listeners else None

    # --- secrets ----------------------------------------------------------------

    def redact(self, text: str) -> str:
        """``text`` with every secret value hidden."""
        return self._redact(text) if self._redact else text

    def add_secret(self, value: str) -> None:
        """Hide ``value`` (and its encodings) in everything emitted from now on."""
        self._redact.add(value)
        self._has_secrets = bool(self._redact)

    # --- events -----------------------------------------------------------------

    def emit(self, event: ev.Event) -> None:
        """Journal (while recording), fold and deliver one event."""
        journal = self.journal
        if journal is not None and self.recording:
            try:
                if journal.closed and self.ended:
                    # Undo, notes and checklist ticks go on after the end; each reopens the journal.
                    with journal.reopen() as reopened:
                        reopened.append(event)
                else:
                    journal.append(event)
            except JournalWriteError as exc:
                # Not raised here (a view calling note() must not crash): folded, unrecorded;
                # the run stops before the next step (run_all, the executor, finish raise it).
                self.journal_failed(exc)
        self.folder.apply(event)
        for callback in self._listeners if len(self._listeners) < 2 else list(self._listeners):
            try:
                callback(event)
            except Exception:  # a broken view must not stop a rollback half-way
                log.exception("a session listener failed on %s", event.kind)

    def journal_failed(self, failure: JournalWriteError) -> None:
        """The journal cannot be written (from any thread): tell the session, on its event loop."""
        loop = self.loop
        if loop is not None and self.loop_thread != threading.get_ident() and not loop.is_closed():
            loop.call_soon_threadsafe(self._on_failure, failure)
        else:
            self._on_failure(failure)

    # --- output: the hot path -----------------------------------------------------

    def output(self, step_id: str, line: str, stream: str) -> None:
        """One line of a step's output (``stream``: stdout, stderr or info)."""
        self.output_lines(step_id, [line], stream)

    def output_lines(self, step_id: str, lines: list[str], stream: str) -> None:
        """Lines that arrived together: one clock reading, one journal write, one fold step."""
        if not lines:
            return
        if self.loop is not None and threading.get_ident() != self.loop_thread:
            self.loop.call_soon_threadsafe(self.output_lines, step_id, list(lines), stream)
            return
        last = self._seq.get(step_id)
        if last is None:  # the step's first lines in this process: a resumed step goes on from the fold
            last = self.folder.state.step(step_id).last_seq
        first = last + 1
        self._seq[step_id] = first + len(lines) - 1
        texts, colours = self._clean_lines(lines)
        capturing = self._taps.get(step_id) if self._taps else None
        if capturing is not None and stream != "info":
            capturing.extend(texts)
            del capturing[: -carry.MAX_CAPTURE_LINES]
        events = _output_events(step_id, first, stream, texts, colours, now())
        journal = self.journal
        if journal is not None and journal.closed and self.ended:
            for event in events:  # after the end: each reopens the journal (rare, never a flood)
                self.emit(event)
            return
        if journal is not None and self.recording:
            journal.append_output(events)
        self.folder.apply_output(events)
        listeners = self._listeners if len(self._listeners) < 2 else list(self._listeners)
        for event in events:
            for callback in listeners:
                try:
                    callback(event)
                except Exception:  # a broken view must not stop a rollback half-way
                    log.exception("a session listener failed on %s", event.kind)

    def tap(self, step_id: str) -> None:
        """Keep the step's last stdout/stderr lines (as emitted: clean, redacted) for a capture."""
        self._taps[step_id] = []

    def untap(self, step_id: str) -> list[str] | None:
        """Stop keeping the step's lines; the lines kept, or None when none were."""
        return self._taps.pop(step_id, None)

    def _clean_lines(self, lines: list[str]) -> tuple[list[str], list[str]]:
        """The lines ANSI-stripped and redacted, and each line's coloured form ("" when plain)."""
        raw = "\n".join(lines)  # one scan of the chunk tells whether any line needs the work
        texts, colours = split_display(lines, raw)  # the display form carries only SGR colour
        joined = raw if texts is lines else "\n".join(texts)
        if self._has_secrets and self._holds_secret(joined, raw):
            redact = self._redact
            texts = [redact(text) for text in texts]
            colours = [redact(c) if c else "" for c in colours]
        return texts, colours

    def _holds_secret(self, joined: str, raw: str) -> bool:
        # Every line is part of the joined chunk: where the chunk holds no secret, no line does.
        redact = self._redact
        return redact(joined) is not joined or (raw is not joined and redact(raw) is not raw)


_new_event = object.__new__


def _slot_setter(cls: type, name: str) -> Callable[[object, Any], None]:
    setter: Callable[[object, Any], None] = cls.__dict__[name].__set__
    return setter


_SET_STEP = _slot_setter(ev.OutputLine, "step_id")
_SET_SEQ = _slot_setter(ev.OutputLine, "seq")
_SET_STREAM = _slot_setter(ev.OutputLine, "stream")
_SET_TEXT = _slot_setter(ev.OutputLine, "text")
_SET_ANSI = _slot_setter(ev.OutputLine, "ansi")
_SET_AT = _slot_setter(ev.Event, "at")
# Only while OutputLine is exactly these fields and does nothing else on creation.
_FAST_EVENTS = [f.name for f in dataclasses.fields(ev.OutputLine)] == [
    "at",
    "step_id",
    "seq",
    "stream",
    "text",
    "ansi",
] and not hasattr(ev.OutputLine, "__post_init__")


def _output_events(
    step_id: str, first: int, stream: str, texts: list[str], colours: list[str], at: float
) -> list[ev.OutputLine]:
    """``OutputLine(step_id, seq, stream, text, ansi, at=at)`` for each line, at a third of the cost.

    The frozen dataclass's ``__init__`` goes through ``object.__setattr__`` per field;
    a million lines pay that a million times. The slot descriptors set the same
    fields (OutputLine has no ``__post_init__``), and the events compare equal.
    """
    seqs = range(first, first + len(texts))
    if not _FAST_EVENTS:
        return [
            ev.OutputLine(step_id, seq, stream, text, ansi, at=at)
            for seq, text, ansi in zip(seqs, texts, colours, strict=True)
        ]
    events: list[ev.OutputLine] = []
    append = events.append
    new = _new_event
    cls = ev.OutputLine
    for seq, text, ansi in zip(seqs, texts, colours, strict=True):
        event = new(cls)
        _SET_STEP(event, step_id)
        _SET_SEQ(event, seq)
        _SET_STREAM(event, stream)
        _SET_TEXT(event, text)
        _SET_ANSI(event, ansi)
        _SET_AT(event, at)
        append(event)
    return events
