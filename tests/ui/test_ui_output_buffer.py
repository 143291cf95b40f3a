"""The run screen's output buffer: which lines go to the log, which to the watch pane, which are kept."""

from __future__ import annotations

from runbook_tui.core import events as ev
from runbook_tui.core.journal.fold import TailLine
from runbook_tui.ui.screens.procedure.output import LOG_MAX_LINES, OutputBuffer


def line(step: str, seq: int, text: str, stream: str = "stdout", ansi: str = "") -> ev.OutputLine:
    return ev.OutputLine(at=0.0, step_id=step, seq=seq, stream=stream, text=text, ansi=ansi)


def test_lines_go_to_the_pane_that_shows_their_step_and_every_one_is_kept() -> None:
    buffer = OutputBuffer()
    buffer.pending += [line("build", 1, "compiling"), line("tail", 1, "GET /"), line("other", 1, "x")]
    to_log, to_watch = buffer.flush(shown="build", watched="tail")
    assert to_log == ["compiling"] and to_watch == ["GET /"]
    assert buffer.pending == [] and buffer.seen == 3
    assert {k: list(v) for k, v in buffer.lines.items()} == {
        "build": ["compiling"],
        "tail": ["GET /"],
        "other": ["x"],
    }


def test_stderr_is_red_and_info_dim_unless_the_line_has_its_own_colours() -> None:
    buffer = OutputBuffer()
    buffer.pending += [
        line("s", 1, "boom", "stderr"),
        line("s", 2, "retrying", "info"),
        line("s", 3, "green", "stderr", ansi="\x1b[32mgreen\x1b[0m"),
    ]
    to_log, _ = buffer.flush(shown="s", watched=None)
    assert to_log == ["\x1b[31mboom\x1b[0m", "\x1b[2mretrying\x1b[0m", "\x1b[32mgreen\x1b[0m"]


def test_the_host_filter_keeps_one_hosts_lines_in_the_log_and_every_line_in_the_buffer() -> None:
    buffer = OutputBuffer()
    buffer.host_filter = "web2"
    buffer.pending += [
        line("f", 1, "[web1] ok"),
        line("f", 2, "[web2] ok"),
        line("f", 3, "[web2] bad", "stderr"),
    ]
    to_log, _ = buffer.flush(shown="f", watched=None)
    assert to_log == ["[web2] ok", "\x1b[31m[web2] bad\x1b[0m"]
    assert len(buffer.lines["f"]) == 3
    buffer.host_filter = None
    assert buffer.shown_lines("f") == list(buffer.lines["f"])
    assert buffer.shown_lines("nothing") == [] and buffer.shown_lines(None) == []


def test_a_new_attempt_starts_empty_and_a_resumed_steps_recorded_tail_is_kept_once() -> None:
    buffer = OutputBuffer()
    buffer.pending.append(line("s", 1, "first attempt"))
    buffer.flush(shown=None, watched=None)
    buffer.restart("s")
    assert list(buffer.lines["s"]) == []
    buffer.keep_recorded("r", [TailLine(1, "stdout", "out", 0.0), TailLine(2, "stderr", "err", 0.0)])
    assert list(buffer.lines["r"]) == ["out", "\x1b[31merr\x1b[0m"]
    buffer.keep_recorded("r", [TailLine(3, "stdout", "again", 0.0)])
    assert list(buffer.lines["r"]) == ["out", "\x1b[31merr\x1b[0m"], "lines already kept are not replaced"
    assert buffer.lines["r"].maxlen == LOG_MAX_LINES
