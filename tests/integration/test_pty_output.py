"""Step stdout is a pseudo-terminal: live, stamped on arrival, wide, no pager, not a controlling tty."""

from __future__ import annotations

import sys
from pathlib import Path

from helpers.batching import flood_session, run_session, write_script
from helpers.shell import run

from runbook_tui.core import events as ev
from runbook_tui.core.events import StepStatus
from runbook_tui.core.journal import load

SLOW = f"""{sys.executable} -c 'import time
for i in range(3):
    print("line", i)
    time.sleep(1)'"""


async def test_unflushed_python_lines_arrive_live_and_apart(tmp_path: Path) -> None:
    ctx, status, message, _ = await run(SLOW, tmp_path)
    assert status is StepStatus.PASSED, message
    assert ctx.texts() == ["line 0", "line 1", "line 2"]
    # Loose: each line arrived when it was printed, not all at the end together.
    assert ctx.times[1] - ctx.times[0] > 0.7 and ctx.times[2] - ctx.times[1] > 0.7


async def test_stdout_is_a_terminal_and_stdin_is_not(tmp_path: Path) -> None:
    ctx, status, _, _ = await run(
        "if test -t 1; then echo out-tty; fi; if test -t 0; then echo in-tty; else echo in-not; fi;"
        " if test -t 2; then echo err-tty; else echo err-not; fi",
        tmp_path,
    )
    assert status is StepStatus.PASSED
    assert ctx.texts() == ["out-tty", "in-not", "err-not"]


async def test_stderr_stays_a_separate_stream(tmp_path: Path) -> None:
    ctx, status, _, _ = await run("echo to-out; echo to-err >&2", tmp_path)
    assert status is StepStatus.PASSED
    assert ctx.texts("stdout") == ["to-out"] and ctx.texts("stderr") == ["to-err"]


async def test_the_pty_is_not_the_controlling_terminal(tmp_path: Path) -> None:
    ctx, status, _, _ = await run(
        "if (: </dev/tty) 2>/dev/null; then echo has-ctty; else echo no-ctty; fi", tmp_path
    )
    assert status is StepStatus.PASSED
    assert ctx.texts() == ["no-ctty"]


async def test_pagers_are_cat(tmp_path: Path) -> None:
    ctx, status, _, _ = await run('echo "$PAGER $GIT_PAGER $SYSTEMD_PAGER"', tmp_path)
    assert status is StepStatus.PASSED
    assert ctx.texts() == ["cat cat cat"]


async def test_git_log_does_not_open_a_pager(tmp_path: Path) -> None:
    script = (
        "git init -q r && cd r && git -c user.name=t -c user.email=t@t commit -q --allow-empty -m one"
        " && for i in $(seq 2 60); do"
        " git -c user.name=t -c user.email=t@t commit -q --allow-empty -m c$i; done"
        " && git log --oneline | wc -l && git log --format=%s"
    )
    ctx, status, message, _ = await run(script, tmp_path, timeout=60)
    assert status is StepStatus.PASSED, message
    assert ctx.texts()[0].strip() == "60"
    assert len(ctx.texts()) == 61


async def test_the_window_is_wide(tmp_path: Path) -> None:
    ctx, status, _, _ = await run("stty size <&1", tmp_path)
    assert status is StepStatus.PASSED
    rows, cols = (int(n) for n in ctx.texts()[0].split())
    assert cols >= 200 and rows > 0


async def test_newlines_are_not_turned_into_crlf(tmp_path: Path) -> None:
    ctx, status, _, _ = await run("printf 'a\\nb\\n' | od -c | head -1; printf 'x\\ny\\n'", tmp_path)
    assert status is StepStatus.PASSED
    assert ctx.texts()[1:] == ["x", "y"]


async def test_a_last_line_without_newline_arrives(tmp_path: Path) -> None:
    ctx, status, _, _ = await run("printf 'no newline'", tmp_path)
    assert status is StepStatus.PASSED
    assert ctx.texts() == ["no newline"]


async def test_the_journal_stamps_lines_as_they_arrive_and_keeps_them_plain(
    tmp_path: Path,
) -> None:
    body = (
        "import sys, time\n"
        "for i in range(3):\n"
        "    print(f'\\x1b[32mline {i}\\x1b[0m' if sys.stdout.isatty() else f'pipe {i}')\n"
        "    time.sleep(1)\n"
    )
    session, rec = flood_session(tmp_path, write_script(tmp_path, body))
    assert await run_session(session) is StepStatus.PASSED
    lines = rec.output("big")
    assert [e.text for e in lines] == ["line 0", "line 1", "line 2"]  # a terminal: it coloured them
    assert [e.ansi for e in lines] == [f"\x1b[32mline {i}\x1b[0m" for i in range(3)]
    assert session.journal_path is not None
    journaled = [e for e in load(session.journal_path).events if isinstance(e, ev.OutputLine)]
    assert [e.text for e in journaled] == ["line 0", "line 1", "line 2"]
    assert all(e.ansi == "" for e in journaled)  # colour is for display, never journalled
    # Loose: stamped as they came, about a second apart, not all at the end together.
    assert journaled[1].at - journaled[0].at > 0.7 and journaled[2].at - journaled[1].at > 0.7


async def test_stdout_written_before_stderr_is_delivered_first(tmp_path: Path) -> None:
    # stdout waits a moment in the pty while stderr's pipe is read at once: the runner
    # reads the pty before it hands on stderr. (Across two streams order is only as
    # good as the reads: "three" comes a moment later so it cannot share a read.)
    ctx, status, _, _ = await run("echo one\necho two >&2\nsleep 0.2\necho three", tmp_path)
    assert status is StepStatus.PASSED
    assert ctx.lines == [("stdout", "one"), ("stderr", "two"), ("stdout", "three")]
