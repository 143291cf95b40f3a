"""The core stays headless: no core module, and no headless command, imports Textual."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from typing import Any

import runbook_tui.core

HEADLESS_COMMANDS = [
    "runbook_tui.commands.validate",
    "runbook_tui.commands.library",
    "runbook_tui.commands.run",
]

# Imports each module in turn in a fresh interpreter; reports the first one after which Textual is loaded.
# If importing all of them never loads Textual, no single one does.
PROBE = """
import importlib, json, sys
result = {"offender": None, "missing": [], "imported": []}
for name in json.loads(sys.argv[1]):
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        result["missing"].append(name)
        continue
    result["imported"].append(name)
    if any(m == "textual" or m.startswith("textual.") for m in sys.modules):
        result["offender"] = name
        break
print(json.dumps(result))
"""


def core_modules() -> list[str]:
    """Every module under runbook_tui.core, found by walking the package so new ones are covered."""
    found = ["runbook_tui.core"]
    found += [
        info.name for info in pkgutil.walk_packages(runbook_tui.core.__path__, prefix="runbook_tui.core.")
    ]
    return sorted(found)


def probe(modules: list[str]) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(modules)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_walk_finds_the_core() -> None:
    modules = core_modules()
    assert {"runbook_tui.core.loader", "runbook_tui.core.library", "runbook_tui.core.model"} <= set(modules)


def test_core_and_headless_commands_do_not_import_textual() -> None:
    core = core_modules()
    result = probe(core + HEADLESS_COMMANDS)
    assert result["offender"] is None, f"{result['offender']} imports Textual"
    assert not set(core) & set(result["missing"])
    assert set(core) <= set(result["imported"])


def test_the_probe_catches_an_offender() -> None:
    result = probe(["runbook_tui.core.model", "textual.widgets", "runbook_tui.core.loader"])
    assert result["offender"] == "textual.widgets"


# What start-up imports before the library list is full: the app, the library screen and
# index, and the offer of an unfinished session. The model and the event classes take
# ~70 ms to build (dataclasses), so they wait until a runbook or a session is opened.
STARTUP_MODULES = [
    "runbook_tui.ui.app",
    "runbook_tui.ui.screens.library",
    "runbook_tui.core.library",
    "runbook_tui.core.library_cache",
    "runbook_tui.core.sessions",
    "runbook_tui.ui.screens.resume",
]
HEAVY = ["runbook_tui.core.model", "runbook_tui.core.events", "runbook_tui.core.journal.fold", "yaml"]

STARTUP_PROBE = """
import importlib, json, sys
for name in json.loads(sys.argv[1]):
    importlib.import_module(name)
print(json.dumps(sorted(m for m in json.loads(sys.argv[2]) if m in sys.modules)))
"""


def test_start_up_does_not_build_the_model_or_the_events() -> None:
    result = subprocess.run(
        [sys.executable, "-c", STARTUP_PROBE, json.dumps(STARTUP_MODULES), json.dumps(HEAVY)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
