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
