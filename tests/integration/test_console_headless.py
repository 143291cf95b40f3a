"""The console front end (``--plain``) stays headless: importing it never loads Textual."""

from __future__ import annotations

import subprocess
import sys

CONSOLE_MODULES = ["runbook_tui.console.printer", "runbook_tui.console.asker", "runbook_tui.console.runner"]


def test_the_console_front_end_does_not_import_textual() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {CONSOLE_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
