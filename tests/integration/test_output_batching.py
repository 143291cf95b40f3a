"""Output in chunks, not lines: real processes through shell steps, the engine and the journal.

Every line must arrive, once, in order, redacted, in a journal that loads back
to the same state, however the pipe reads cut the bytes and however slowly the
lines are taken.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from pathlib import Path

import pytest
from helpers.batching import flood_session, run_session, write_script

from runbook_tui.core import events as ev
from runbook_tui.core.events import StepStatus
from runbook_tui.core.journal import load
from runbook_tui.core.journal.codec import encode_output, encode_outputs
from runbook_tui.core.journal.fold import TAIL_LINES, StateFolder, fold
from runbook_tui.core.params import REDACTED
from runbook_tui.core.steps.shell import SLICE, LineSplitter, group_alive, run_command

# --- the whole path ------------------------------------------------------------------


@pytest.mark.slow
async def test_250k_lines_arrive_complete_in_order_and_the_journal_folds_to_the_state(tmp_path: Path) -> None:
    # stdout and stderr interleaved: one sequence across both, in the order they were read.
    command = "'seq 1 250000; echo on-stderr >&2; seq 250001 250010'"
    session, rec = flood_session(tmp_path, command)
    assert await run_session(session) is StepStatus.PASSED
    lines = rec.output("big")
    assert [e.seq for e in lines] == list(range(1, len(lines) + 1))
    stdout = [e.text for e in lines if e.stream == "stdout"]
    assert stdout == [str(i) for i in range(1, 250011)]
    assert [e.text for e in lines if e.stream == "stderr"] == ["on-stderr"]
    state = session.state.step("big")
    assert state.output_lines == len(lines) == 250011 and state.last_seq == 250011
    # stdout (a pty) and stderr (a pipe) are read apart: where on-stderr lands among the
    # last stdout lines depends on which was read first, so the tail is the lines' own.
    assert [t.text for t in state.tail] == [e.text for e in lines[-TAIL_LINES:]]
    assert session.journal_path is not None
    loaded = load(session.journal_path)
    assert not loaded.problems
    assert fold(loaded.events) == session.state
    assert [e for e in loaded.events if isinstance(e, ev.OutputLine)] == lines  # plain lines: ansi == ""


def test_a_chunk_is_journaled_byte_for_byte_as_its_lines_one_by_one() -> None:
    at = 1_790_000_000.123456
    texts = ["plain", 'quote " and \\ back', "tab\tcafé ☃", "\x07bell", "", "\U0001f600 wide"]
    events = [ev.OutputLine("s", i + 7, "stderr", t, at=at) for i, t in enumerate(texts)]
    assert encode_outputs(events) == b"".join(map(encode_output, events))
    mixed = [*events[:2], ev.OutputLine("other", 1, "stdout", "x", at=at + 1), *events[2:]]
    assert encode_outputs(mixed) == b"".join(map(encode_output, mixed))


def test_the_engines_fast_events_are_the_events_the_constructor_makes() -> None:
    from runbook_tui.core.engine import emitter as engine

    assert engine._FAST_EVENTS  # OutputLine changed: check _output_events still sets every field
    made = engine._output_events("s", 5, "stderr", ["a", "b\x1b[1m"], ["", "b\x1b[1m"], 12.5)
    assert made == [
        ev.OutputLine("s", 5, "stderr", "a", "", at=12.5),
        ev.OutputLine("s", 6, "stderr", "b\x1b[1m", "b\x1b[1m", at=12.5),
    ]
    assert hash(made[0]) == hash(ev.OutputLine("s", 5, "stderr", "a", "", at=12.5))


def test_folding_a_chunk_equals_folding_its_lines() -> None:
    events = [ev.OutputLine("a", i, "stdout", f"line {i}", at=100.0 + i) for i in range(1, 130)]
    mixed = [*events[:60], ev.OutputLine("b", 1, "info", "elsewhere", at=200.0), *events[60:]]
    for chunk in (events, mixed, events[:3]):
        one_by_one = StateFolder()
        one_by_one.apply_all(chunk)
        batched = StateFolder()
        batched.apply_output(chunk)
        assert batched.state == one_by_one.state


# --- how the bytes arrive ----------------------------------------------------------------


async def test_lines_and_utf8_characters_cut_across_reads_come_out_whole(tmp_path: Path) -> None:
    # Pauses between writes make each piece its own pipe read; the cuts fall inside lines
    # and inside multi-byte characters. The burst after them is cut by the slicing too.
    body = (
        "import sys, time\n"
        "out = sys.stdout.buffer\n"
        "data = 'caf\\u00e9 \\u2603 one\\nsecond \\U0001f600 line\\nthird\\n'.encode()\n"
        "points = [0, 2, 4, 5, 11, 12, 21, 22, 23, 27, len(data)]\n"
        "for a, b in zip(points, points[1:]):\n"
        "    out.write(data[a:b]); out.flush(); time.sleep(0.03)\n"
        "burst = ''.join(f'\\u00fc{i}\\u20ac\\n' for i in range(40000)).encode()\n"
        "out.write(burst); out.flush()\n"
        "out.write('no newline \\u00e9'.encode()[:-1]); out.flush(); time.sleep(0.03)\n"
        "out.write('no newline \\u00e9'.encode()[-1:]); out.flush()\n"
    )
    got: list[tuple[str, str]] = []
    batches: list[int] = []

    def on_lines(lines: list[str], stream: str) -> None:
        batches.append(len(lines))
        got.extend((stream, line) for line in lines)

    result = await run_command(
        write_script(tmp_path, body),
        cwd=tmp_path,
        env=os.environ,
        on_line=lambda t, s: None,
        on_lines=on_lines,
    )
    assert result.exit_code == 0
    expected = ["café ☃ one", "second \U0001f600 line", "third"]
    expected += [f"ü{i}€" for i in range(40000)]
    expected.append("no newline é")
    assert [line for _, line in got] == expected
    assert {stream for stream, _ in got} == {"stdout"}
    # Lines come in batches, and no batch is more than a slice's worth (each line >= 6 bytes).
    assert len(batches) < len(expected) / 10
    assert max(batches) <= SLICE // 6 + 1


def test_batched_splitting_equals_line_by_line_splitting_however_the_bytes_are_cut() -> None:
    text = "".join(
        f"{i} caf\u00e9\r\n" if i % 7 == 0 else (f"{i}%\r" if i % 5 == 0 else f"line {i} \u2603\n")
        for i in range(3000)
    )
    data = text.encode() + b"x" * 70_000 + b"\nend"
    rng = random.Random(7)
    for _ in range(5):
        cuts = sorted(rng.sample(range(1, len(data)), 300))
        pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        one: list[str] = []
        many: list[str] = []
        single = LineSplitter(one.append)
        batched = LineSplitter(lambda _line: None, emit_many=many.extend)
        for piece in pieces:
            single.feed(piece)
            batched.feed(piece)
        single.close()
        batched.close()
        assert many == one
        assert one[-1] == "end" and "line 2999 \u2603" in one


# --- secrets ---------------------------------------------------------------------------


async def test_a_secret_echoed_in_a_big_burst_is_redacted_in_every_line(tmp_path: Path) -> None:
    secret = "hunter2-S3cr3t"
    # 60,000 plain lines, 20,000 coloured ones, and one where a colour code cuts the secret.
    (tmp_path / "burst.sh").write_text(
        'yes "$1" | head -n 60000\n'
        "yes \"$(printf '\\033[31m')$1\" | head -n 20000\n"
        "printf 'hunter2\\033[0m-S3cr3t tail\\n'\n"
    )
    session, rec = flood_session(tmp_path, "sh burst.sh {{token}}", params={"token": secret})
    assert await run_session(session) is StepStatus.PASSED
    lines = rec.output("big")
    assert len(lines) == 80001
    assert all(e.text == REDACTED for e in lines[:80000])
    assert all(e.ansi == "" for e in lines[:60000])
    assert all(e.ansi == f"\x1b[31m{REDACTED}" for e in lines[60000:80000])
    assert lines[-1].text == f"{REDACTED} tail"
    assert session.journal_path is not None
    assert secret not in session.journal_path.read_text()
    assert secret not in repr(session.state)


# --- the end of the process --------------------------------------------------------------


async def test_a_process_that_exits_right_after_a_big_write_loses_nothing(tmp_path: Path) -> None:
    # The writer widens its pipe to 1 MiB, fills it and exits at once: all of it is still
    # unread when the exit is noticed. Taking it in slices (10 ms a batch here) lasts well
    # past PIPE_GRACE; the grace counts from the last data, so none of it may be cut off.
    body = (
        "import fcntl, sys\n"
        "try:\n"
        "    fcntl.fcntl(1, 1031, 1 << 20)  # F_SETPIPE_SZ\n"
        "except OSError:\n"
        "    pass\n"
        "sys.stdout.write(''.join(f'{i:07d}\\n' for i in range(120000)))\n"
    )
    got: list[str] = []

    def slow(lines: list[str], stream: str) -> None:
        time.sleep(0.01)
        got.extend(lines)

    result = await run_command(
        write_script(tmp_path, body), cwd=tmp_path, env=os.environ, on_line=lambda t, s: None, on_lines=slow
    )
    assert result.exit_code == 0
    assert got == [f"{i:07d}" for i in range(120000)]


async def test_a_background_child_holding_the_pipes_neither_hangs_the_step_nor_costs_lines(
    tmp_path: Path,
) -> None:
    body = "import sys\nsys.stdout.write(''.join(f'{i}\\n' for i in range(100000)))\n"
    got: list[str] = []
    start = time.monotonic()
    result = await run_command(
        f"sleep 30 & {write_script(tmp_path, body)}",
        cwd=tmp_path,
        env=os.environ,
        on_line=lambda t, s: None,
        on_lines=lambda lines, s: got.extend(lines),
    )
    try:
        assert time.monotonic() - start < 20
        assert result.exit_code == 0
        assert got == [str(i) for i in range(100000)]
    finally:
        assert result.pid is not None
        os.killpg(result.pid, 9)
        for _ in range(100):
            if not group_alive(result.pid):
                break
            await asyncio.sleep(0.05)


# --- the log pane ----------------------------------------------------------------------


def test_the_pane_cleans_a_batch_exactly_as_it_would_each_line() -> None:
    from runbook_tui.ui.widgets.log_view import _clean, _cleaned, _width

    plain = [str(i) for i in range(5000)]
    odd = ["tab\there", "bell\x07", "\x1b[31mred\x1b[0m", "wide 漢字 \U0001f600", "", "nul\x00byte", "ok"]
    for batch in (plain, odd, plain + odd, [*odd, *plain]):
        lines, width = _cleaned(batch)
        expected = [_clean(line) for line in batch]
        assert lines == expected
        assert width == max(_width(line) for line in expected)


async def test_the_pane_shows_plain_and_coloured_lines_of_a_flood(tmp_path: Path) -> None:
    from textual.app import App, ComposeResult

    from runbook_tui.ui.widgets.log_view import LogView

    class Pane(App[None]):
        def compose(self) -> ComposeResult:
            yield LogView(max_lines=1000, id="log")

    app = Pane()
    async with app.run_test(size=(40, 10)) as pilot:
        log = app.query_one(LogView)
        log.write_lines([f"line {i}" for i in range(3000)] + ["\x1b[32mgreen\x1b[0m", "漢字", "last"])
        await pilot.pause()
        assert log.line_count <= 1000 and log.dropped + log.line_count == 3003
        shown = [log.render_line(y).text.rstrip() for y in range(log.size.height)]
        assert shown[-3:] == ["green", "漢字", "last"]
        assert shown[-4] == "line 2999"
        green = log.render_line(log.size.height - 3)
        assert any(seg.style and seg.style.color and seg.style.color.number == 2 for seg in green)
        assert log.virtual_size.width == len("line 2999")
