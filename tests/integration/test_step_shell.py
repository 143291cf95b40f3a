"""Shell steps against real processes: streaming, exit status, timeout, cancel, odd output."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import tracemalloc
from pathlib import Path

import pytest
from helpers.shell import Ctx, run, shell_step

from runbook_tui.core import params
from runbook_tui.core.ansi import strip_ansi
from runbook_tui.core.events import StepStatus
from runbook_tui.core.steps.shell import (
    MAX_LINE,
    LineSplitter,
    ShellRunner,
    format_timeout,
    group_alive,
    run_command,
)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


# --- streaming and order ----------------------------------------------------------


async def test_stdout_and_stderr_lines_arrive_in_sequence(tmp_path: Path) -> None:
    ctx, status, _, code = await run(
        "echo one; sleep 0.1; echo two >&2; sleep 0.1; echo three; sleep 0.1; echo four >&2", tmp_path
    )
    assert status is StepStatus.PASSED and code == 0
    assert ctx.lines == [("stdout", "one"), ("stderr", "two"), ("stdout", "three"), ("stderr", "four")]


async def test_a_line_arrives_while_the_process_still_runs(tmp_path: Path) -> None:
    start = time.monotonic()
    ctx, status, _, _ = await run("echo first; sleep 1.5; echo second", tmp_path)
    end = time.monotonic()
    assert status is StepStatus.PASSED
    assert ctx.texts() == ["first", "second"]
    assert ctx.times[0] - start < 1.0, "the first line waited for the process to end"
    assert end - ctx.times[0] > 1.0


async def test_last_line_without_newline_and_stdin_closed(tmp_path: Path) -> None:
    ctx, status, _, _ = await run("cat; printf 'a\\nb'", tmp_path)
    assert status is StepStatus.PASSED
    assert ctx.texts() == ["a", "b"]


async def test_ansi_colours_are_kept_in_the_raw_line(tmp_path: Path) -> None:
    ctx, _, _, _ = await run("printf '\\033[31mred\\033[0m\\n'", tmp_path)
    assert ctx.texts() == ["\x1b[31mred\x1b[0m"]
    assert strip_ansi(ctx.texts()[0]) == "red"


# --- exit status ------------------------------------------------------------------


async def test_non_zero_exit_fails_with_the_status(tmp_path: Path) -> None:
    _, status, message, code = await run("echo out; exit 3", tmp_path)
    assert status is StepStatus.FAILED
    assert code == 3
    assert message == "exited with status 3"


async def test_expected_exit_status_passes(tmp_path: Path) -> None:
    _, status, message, code = await run("exit 3", tmp_path, expect_exit=3)
    assert status is StepStatus.PASSED and code == 3 and message == "exited with status 3"
    _, status, message, _ = await run("exit 0", tmp_path, expect_exit=3)
    assert status is StepStatus.FAILED and message == "exited with status 0 (expected 3)"


async def test_killed_by_a_signal_is_named(tmp_path: Path) -> None:
    _, status, message, code = await run("kill -TERM $$", tmp_path)
    assert status is StepStatus.FAILED
    assert message == "killed by SIGTERM"
    assert code is None


# --- timeout and cancel -----------------------------------------------------------


async def test_timeout_stops_the_group_and_fails(tmp_path: Path) -> None:
    start = time.monotonic()
    ctx, status, message, _ = await run("echo $$; sleep 30", tmp_path, timeout=0.5)
    assert status is StepStatus.FAILED
    assert message == "timed out after 0.5s"
    assert time.monotonic() - start < 4
    assert ("info", "timed out after 0.5s: sent SIGINT to the process group") in ctx.lines
    assert not group_alive(int(ctx.texts()[0]))


async def test_cancel_stops_a_plain_command_with_sigint(tmp_path: Path) -> None:
    ctx = Ctx(tmp_path)
    task = asyncio.create_task(ShellRunner().run(shell_step("echo $$; sleep 30"), ctx))
    while not ctx.lines:
        await asyncio.sleep(0.01)
    start = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - start < 1.5
    assert ctx.texts("info") == ["cancelled: sent SIGINT to the process group"]
    assert not group_alive(int(ctx.texts()[0]))


async def test_cancel_escalates_to_sigkill_when_signals_are_trapped(tmp_path: Path) -> None:
    script = "trap 'echo got-int' INT; trap 'echo got-term' TERM; echo $$; while :; do sleep 0.1 || :; done"
    ctx = Ctx(tmp_path)
    task = asyncio.create_task(ShellRunner().run(shell_step(script), ctx))
    while not ctx.lines:
        await asyncio.sleep(0.01)
    pgid = int(ctx.texts()[0])
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ctx.texts("info") == [
        "cancelled: sent SIGINT to the process group",
        "cancelled: sent SIGTERM to the process group",
        "cancelled: sent SIGKILL to the process group",
    ]
    assert "got-int" in ctx.texts() and "got-term" in ctx.texts()
    assert not group_alive(pgid)


async def test_background_child_holding_the_pipes_does_not_hang_the_step(tmp_path: Path) -> None:
    start = time.monotonic()
    ctx = Ctx(tmp_path)
    result = await run_command(
        "echo start; sleep 30 & echo done", cwd=tmp_path, env=os.environ, on_line=ctx.output
    )
    try:
        assert time.monotonic() - start < 3
        assert result.exit_code == 0
        assert ctx.texts() == ["start", "done"]
    finally:
        assert result.pid is not None
        _kill_group(result.pid)


# --- odd output -------------------------------------------------------------------


async def test_a_10_megabyte_line_is_split_into_bounded_pieces(tmp_path: Path) -> None:
    ctx, status, _, _ = await run("head -c 10000000 /dev/zero | tr '\\0' a; echo; echo after", tmp_path)
    assert status is StepStatus.PASSED
    pieces = ctx.texts()
    assert pieces[-1] == "after"
    assert sum(len(p) for p in pieces[:-1]) == 10_000_000
    assert max(len(p) for p in pieces) <= MAX_LINE
    assert set("".join(pieces[:-1])) == {"a"}


async def test_invalid_utf8_is_replaced_not_fatal(tmp_path: Path) -> None:
    ctx, status, _, _ = await run("printf 'ok \\377\\376 end\\n'; printf 'caf\\303\\251\\n'", tmp_path)
    assert status is StepStatus.PASSED
    assert ctx.texts() == ["ok \ufffd\ufffd end", "café"]


async def test_200k_lines_stream_with_bounded_memory(tmp_path: Path) -> None:
    count = 0
    last = ""

    def on_line(text: str, stream: str) -> None:
        nonlocal count, last
        count += 1
        last = text

    tracemalloc.start()
    try:
        result = await run_command("seq 200000", cwd=tmp_path, env=os.environ, on_line=on_line)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.exit_code == 0
    assert count == 200_000 and last == "200000"
    # 200k lines are ~1.3 MB of text; keeping them would show up far above this bound.
    assert peak < 4_000_000, f"peak {peak} bytes"


def test_splitter_handles_crlf_split_utf8_and_progress_bars() -> None:
    got: list[str] = []
    splitter = LineSplitter(got.append, max_line=8)
    for byte in "héllo\r\nwörld\r".encode():
        splitter.feed(bytes([byte]))
    splitter.feed(b"\n")
    # One chunk of redraws shows only the newest finished one; the held "30%\r" could
    # still be a CRLF, and is then overdrawn by "done" the way a terminal would show it.
    splitter.feed(b"10%\r20%\r30%\r")
    splitter.feed(b"done\n")
    splitter.feed(b"0123456789abc")
    splitter.close()
    assert got == ["héllo", "wörld", "20%", "done", "01234567", "89abc"]


def test_timeouts_read_the_way_runbooks_write_them() -> None:
    assert [format_timeout(s) for s in (300, 90, 2.5, 45, 3600)] == ["5m", "1m30s", "2.5s", "45s", "1h"]


def test_strip_ansi_removes_colours_cursor_moves_and_titles() -> None:
    assert strip_ansi("\x1b[1;32mok\x1b[0m \x1b[2K\x1b]0;title\x07done\x1b(B") == "ok done"
    assert strip_ansi("plain text") == "plain text"


# --- where and with what ----------------------------------------------------------


async def test_missing_working_directory_is_a_failed_outcome(tmp_path: Path) -> None:
    _, status, message, _ = await run("true", tmp_path, cwd="nope")
    assert status is StepStatus.FAILED
    assert "nope" in message and "does not exist" in message


async def test_runs_in_the_steps_directory_with_its_environment(tmp_path: Path) -> None:
    (tmp_path / "svc").mkdir()
    ctx = Ctx(tmp_path, env={"PATH": os.environ["PATH"], "FROM_CTX": "ctx"})
    step = shell_step('pwd; echo "$FROM_CTX $FROM_STEP"', cwd="svc", env={"FROM_STEP": "step"})
    outcome = await ShellRunner().run(step, ctx)
    assert outcome.status is StepStatus.PASSED
    assert ctx.texts() == [str(tmp_path / "svc"), "ctx step"]


async def test_a_hostile_parameter_stays_one_inert_argument(tmp_path: Path) -> None:
    canary = tmp_path / "home" / "canary"
    canary.parent.mkdir()
    canary.write_text("still here")
    command = params.render('for a in {{tag}}; do echo "[$a]"; done', {"tag": "v1; rm -rf ~"}, shell=True)
    # Parameters reach the shell as environment variables; the command only references them.
    env = {"PATH": os.environ["PATH"], "HOME": str(canary.parent), "tag": "v1; rm -rf ~"}
    ctx = Ctx(tmp_path, env=env)
    outcome = await ShellRunner().run(shell_step(command), ctx)
    assert outcome.status is StepStatus.PASSED
    assert ctx.texts() == ["[v1; rm -rf ~]"]
    assert canary.read_text() == "still here"


def test_describe_names_the_command() -> None:
    assert ShellRunner().describe(shell_step("make deploy", cwd="svc")) == "run: make deploy (in svc)"


def test_a_line_completed_across_chunks_stays_bounded() -> None:
    from runbook_tui.core.steps.shell import LineSplitter

    lines: list[str] = []
    splitter = LineSplitter(lines.append, max_line=10)
    splitter.feed(b"a" * 8)  # held back: shorter than the bound
    splitter.feed(b"b" * 7 + b"\nc")  # completes a 15-character line
    splitter.close()
    assert lines == ["a" * 8 + "bb", "b" * 5, "c"]
