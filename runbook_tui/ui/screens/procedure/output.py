"""The run screen's output buffer: each step's kept lines, and the lines not yet on screen.

Output lines arrive from the engine one by one (a flood is millions of them); they wait
in :attr:`OutputBuffer.pending` until the screen flushes them, every 50 ms, into the
per-step buffers and, for the steps shown, into the log and watch panes. No widget here:
the screen decides which lines go to which pane.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable

from ....core import events as ev
from ....core.journal.fold import TailLine

LOG_MAX_LINES = 20_000
# A fleet step's output line starts with its host (after the tint of stderr lines, if any).
HOST_PREFIX = re.compile(r"^(?:\x1b\[[0-9;]*m)*\[([^\]\s]+)\] ")


class OutputBuffer:
    """Each step's last :data:`LOG_MAX_LINES` lines (tinted), and the lines not yet flushed."""

    def __init__(self) -> None:
        self.lines: dict[str, deque[str]] = {}
        self.pending: list[ev.OutputLine] = []
        self.seen = 0  # output lines moved out of pending so far
        self.host_filter: str | None = None  # a fleet step's host whose lines the log shows

    def restart(self, step_id: str) -> None:
        """A new attempt of ``step_id``: earlier lines belong to the previous one."""
        self.lines[step_id] = deque(maxlen=LOG_MAX_LINES)

    def keep_recorded(self, step_id: str, tail: Iterable[TailLine]) -> None:
        """A resumed step's recorded last lines (the journal has every one of them)."""
        if step_id not in self.lines:
            lines = (t.text if t.stream == "stdout" else tint(t.text, t.stream, False) for t in tail)
            self.lines[step_id] = deque(lines, maxlen=LOG_MAX_LINES)

    def flush(self, shown: str | None, watched: str | None) -> tuple[list[str], list[str]]:
        """Move the pending lines into the step buffers; return those for the log and the watch pane.

        ``shown`` is the step in the log pane (its lines pass the host filter), ``watched``
        the step in the watch pane.
        """
        pending, self.pending = self.pending, []
        self.seen += len(pending)
        to_log: list[str] = []
        to_watch: list[str] = []
        output = self.lines
        for line in pending:
            text = line.ansi or line.text
            stream = line.stream
            if stream != "stdout":
                text = tint(text, stream, bool(line.ansi))
            step_id = line.step_id
            buffer = output.get(step_id)
            if buffer is None:
                buffer = output[step_id] = deque(maxlen=LOG_MAX_LINES)
            buffer.append(text)
            if step_id == shown and self.passes(text):
                to_log.append(text)
            if step_id == watched:
                to_watch.append(text)
        return to_log, to_watch

    def shown_lines(self, step_id: str | None) -> list[str]:
        """The kept lines of ``step_id`` that pass the host filter."""
        if step_id is None or step_id not in self.lines:
            return []
        return [t for t in self.lines[step_id] if self.passes(t)]

    def passes(self, text: str) -> bool:
        """Whether a log line passes the host filter (every line when no host is chosen)."""
        if self.host_filter is None:
            return True
        found = HOST_PREFIX.match(text)
        return found is not None and found.group(1) == self.host_filter


def tint(text: str, stream: str, coloured: bool) -> str:
    """stderr in red and the engine's own info lines dimmed, unless the line has its own colours."""
    if coloured:
        return text
    if stream == "stderr":
        return f"\x1b[31m{text}\x1b[0m"
    return f"\x1b[2m{text}\x1b[0m"
