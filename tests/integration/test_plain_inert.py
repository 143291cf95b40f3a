"""``--plain`` never lets a step drive the terminal: control sequences become visible text.

Only SGR colour passes, and only to a terminal without ``NO_COLOR``. The tty
case runs the CLI with a real pseudo-terminal as its stdout.
"""

from __future__ import annotations

import io
import os
import select
import subprocess
from pathlib import Path

from helpers.cli import cli_argv
from helpers.engine import write_runbook

from runbook_tui.console.printer import Printer
from runbook_tui.core import events as ev
from runbook_tui.core.ansi import display_ansi, inert, strip_ansi

NASTY = r"printf '\033]52;c;aGk=\007\033]0;title\007\033[2J\033[31mred\033[0m\033[5;1H\033P1$qm\033\\x\n'"

RUNBOOK = f"""
runbook: 1
id: inert
title: Inert
procedures:
  - id: main
    title: Main
    steps:
      - id: nasty
        title: Nasty
        kind: shell
        command: |
          {NASTY}
          printf 'bell\\007 back\\010space\\n'
"""


def _only_sgr_escapes(text: str) -> bool:
    """Every ESC in ``text`` starts an SGR sequence (``ESC [ ... m``)."""
    import re

    rest = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return "\x1b" not in rest and "\x9b" not in rest and "\x07" not in rest and "\x08" not in rest


def _cli(tmp_path: Path, env: dict[str, str], stdout: int) -> subprocess.Popen[bytes]:
    path = write_runbook(tmp_path, RUNBOOK)
    return subprocess.Popen(
        cli_argv("run", str(path), "main", "--plain", "--workdir", str(tmp_path)),
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env,
    )


def _read_all(fd: int, proc: subprocess.Popen[bytes]) -> bytes:
    out = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child side is closed
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=30)
    return out


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    return {**env, **extra}


def test_on_a_tty_only_sgr_passes_and_the_rest_is_visible(tmp_path: Path) -> None:
    master, slave = os.openpty()
    proc = _cli(tmp_path, _env(), slave)
    os.close(slave)
    out = _read_all(master, proc).decode("utf-8", "replace")
    os.close(master)
    assert proc.returncode == 0, out
    assert "␛]52;c;aGk=" in out and "␛]0;title" in out and "␛[2J" in out and "␛[5;1H" in out
    assert "␛P1$qm" in out
    assert "\x1b[31mred\x1b[0m" in out  # colour passes to a terminal
    assert "bell␇ back␈space" in out
    assert _only_sgr_escapes(out)


def test_no_color_removes_sgr_on_a_tty(tmp_path: Path) -> None:
    master, slave = os.openpty()
    proc = _cli(tmp_path, _env(NO_COLOR="1"), slave)
    os.close(slave)
    out = _read_all(master, proc).decode("utf-8", "replace")
    os.close(master)
    assert proc.returncode == 0, out
    assert "␛]52;c;aGk=" in out and "red" in out
    assert "\x1b" not in out


def test_through_a_pipe_nothing_raw_passes_and_the_sequences_are_visible(tmp_path: Path) -> None:
    proc = _cli(tmp_path, _env(), subprocess.PIPE)
    out, _ = proc.communicate(timeout=60)
    text = out.decode("utf-8", "replace")
    assert proc.returncode == 0, text
    assert "\x1b" not in text and "\x07" not in text
    assert "␛]52;c;aGk=" in text and "␛[2J" in text
    assert "red" in text and "␛[31m" not in text  # colour is dropped, not shown as text


def _printed(event: ev.OutputLine, *, tty: bool) -> str:
    out = io.StringIO()
    Printer(out, tty=tty)(event)
    return out.getvalue()


def test_the_printer_neutralises_a_line_the_engine_hands_it() -> None:
    raw = "\x1b]52;c;aGk=\x07\x1b[31mred\x1b[0m\x9b2J"
    event = ev.OutputLine("s", 1, "stdout", strip_ansi(raw), display_ansi(raw), at=0.0)
    assert _only_sgr_escapes(_printed(event, tty=True))
    assert "\x1b" not in _printed(event, tty=False)


def test_display_ansi_keeps_only_sgr() -> None:
    shown = display_ansi("\x1b[1;32mok\x1b[0m \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \x1b[K\r")
    assert "\x1b[1;32mok\x1b[0m" in shown
    assert "␛]8;;http://x" in shown and "␛[K" in shown
    assert _only_sgr_escapes(shown) and "\r" not in shown


def test_inert_without_colour_drops_sgr_and_shows_the_rest() -> None:
    assert inert("\x1b[31mred\x1b[0m\x1b[2J", colour=False) == "red␛[2J"
    assert inert("plain text", colour=False) == "plain text"
    assert inert("tab\tstays", colour=False) == "tab\tstays"
