"""Nobody did it, so it did not pass: a manual step ticked by ``--yes`` ends ``ticked``."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from helpers.cli import run_cli
from helpers.engine import write_runbook

from runbook_tui.core.drills.score import format_score, score
from runbook_tui.core.events import StepStatus
from runbook_tui.core.journal import load
from runbook_tui.core.journal.fold import fold
from runbook_tui.core.loader import load_runbook

RUNBOOK = """
runbook: 1
id: tick
title: Tick
procedures:
  - id: main
    title: Main
    steps:
      - id: roll
        title: Roll back
        kind: shell
        command: "true"
      - id: notify
        title: Notify users of the rollback
        kind: manual
        instructions: Post in #status.
"""


def _run(tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    path = write_runbook(tmp_path, RUNBOOK)
    done = run_cli("run", str(path), "main", "--plain", "--yes", "--workdir", str(tmp_path))
    match = re.search(r"^journal: (.+\.jsonl)$", done.stdout, re.M)
    assert match, done.stdout + done.stderr
    return done, Path(match.group(1))


def _report(journal: Path, fmt: str) -> str:
    done = run_cli("report", journal.stem, "--format", fmt)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_manual_step_ticked_by_yes_is_ticked_not_passed(tmp_path: Path) -> None:
    done, journal = _run(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr  # ticked does not fail the session
    state = fold(load(journal).events)
    assert state.step("notify").status is StepStatus.TICKED
    assert state.step("roll").status is StepStatus.PASSED
    assert state.outcome == "succeeded"

    markdown = _report(journal, "markdown")
    assert "Notify users of the rollback” passed" not in markdown
    assert "Notify users of the rollback” was ticked without being done" in markdown
    assert "1 manual step(s) ticked without being done (`notify`)" in markdown

    data = json.loads(_report(journal, "json"))
    assert [s["status"] for s in data["steps"] if s["step_id"] == "notify"] == ["ticked"]

    svg = _report(journal, "svg")
    assert 'data-status="ticked"' in svg


def test_the_drill_score_and_summary_show_ticked_apart(tmp_path: Path) -> None:
    _, journal = _run(tmp_path)
    events = load(journal).events
    result = score(events)
    assert result.ticked == ("notify",)
    assert "ticked, not done  notify" in format_score(result)

    from runbook_tui.ui.screens.summary import summary_parts

    runbook = load_runbook(tmp_path / "runbook.yaml")
    text = "".join(
        p if isinstance(p, str) else p[0] for p in summary_parts(fold(events), runbook.procedures[0])
    )
    assert "Ticked, but nobody did it" in text
    assert "1 ticked, not done" in text
