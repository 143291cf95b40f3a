"""Write-ahead edits: a real process SIGKILLed around an edit's rename, then resumed.

The child is a real ``runbook-tui run --plain --yes``; the only thing added is a
kill point, placed by wrapping the edit's atomic write in the child itself, so
the crash lands exactly before or after the rename.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import run_cli
from helpers.engine import Recorder, runbook_from, write_runbook

from runbook_tui.core import events as ev
from runbook_tui.core.asker import YesAsker
from runbook_tui.core.edits import sha256
from runbook_tui.core.engine import EditReconcileError, Session
from runbook_tui.core.events import StepStatus
from runbook_tui.core.journal import load
from runbook_tui.core.journal.fold import fold
from runbook_tui.core.report import markdown
from runbook_tui.core.report.timeline import build_report

RUNBOOK = """
runbook: 1
id: pin
title: Pin the API
procedures:
  - id: main
    title: Main
    steps:
      - id: before
        title: Before
        kind: shell
        command: "echo ready"
      - id: pin
        title: Pin api to v1
        kind: compose_image
        service: api
        tag: v1
      - id: after
        title: After
        kind: shell
        command: "echo done"
"""

COMPOSE = b"services:\n  api:\n    image: registry.local/api:v2  # pinned by the release\n"
EDITED = b"services:\n  api:\n    image: registry.local/api:v1  # pinned by the release\n"

# Runs the real CLI; SIGKILLs itself right before (``before``) or right after (``after``)
# the edit's rename. Nothing else in the child differs from a real run.
CHILD = """
import os, signal, sys
from runbook_tui.core import edits
real = edits._atomic_write
def dying(path, data, st):
    if sys.argv[1] == "before":
        os.kill(os.getpid(), signal.SIGKILL)
    real(path, data, st)
    os.kill(os.getpid(), signal.SIGKILL)
edits._atomic_write = dying
from runbook_tui.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _sessions() -> set[Path]:
    folder = Path(os.environ["RUNBOOK_TUI_DATA_DIR"]) / "sessions"
    return set(folder.glob("*.jsonl")) if folder.exists() else set()


def _crash(tmp_path: Path, when: str) -> Path:
    """Run the runbook in a real child that is SIGKILLed at ``when``; returns its journal."""
    path = write_runbook(tmp_path, RUNBOOK)
    (tmp_path / "docker-compose.yml").write_bytes(COMPOSE)
    before = _sessions()
    argv = ["run", str(path), "main", "--plain", "--yes", "--workdir", str(tmp_path)]
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(CHILD), when, *argv],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    (journal,) = _sessions() - before
    return journal


def _resume(journal: Path, tmp_path: Path) -> tuple[Session, Recorder]:
    session = Session.resume(journal, runbook_from(tmp_path, RUNBOOK), YesAsker(), workdir=tmp_path)
    recorder = Recorder()
    session.subscribe(recorder)
    return session, recorder


def test_a_crash_after_the_rename_is_recorded_on_resume_and_can_be_undone(tmp_path: Path) -> None:
    journal = _crash(tmp_path, "after")
    compose = tmp_path / "docker-compose.yml"
    assert compose.read_bytes() == EDITED  # the rename happened
    crashed = fold(load(journal).events)
    (planned,) = crashed.step("pin").planned_edits  # journalled before the file was touched
    assert crashed.step("pin").edits == ()  # ... and the result never was
    assert planned.path == str(compose.resolve())
    assert planned.before_sha256 == sha256(COMPOSE) and planned.after_sha256 == sha256(EDITED)
    assert Path(planned.backup).read_bytes() == COMPOSE

    session, _ = _resume(journal, tmp_path)
    assert any("recorded it now" in w and "undo is possible" in w for w in session.warnings)
    state = fold(load(journal).events)
    assert state == session.state
    (edit,) = state.step("pin").edits
    assert (edit.path, edit.backup, edit.after_sha256) == (planned.path, planned.backup, planned.after_sha256)
    assert state.step("pin").planned_edits == ()
    kinds = [e.kind for e in load(journal).events]
    assert kinds[-4:] == ["edit_reconciled", "file_edited", "step_interrupted", "session_resumed"]
    reconciled = next(e for e in load(journal).events if isinstance(e, ev.EditReconciled))
    assert (reconciled.found, reconciled.sha256) == ("applied", sha256(EDITED))

    # The report lists the edit, with its diff.
    report = markdown.render(build_report(journal))
    assert "docker-compose.yml" in report and "+    image: registry.local/api:v1" in report

    # Undo is possible, from the backup the crashed run kept.
    assert session.undo_edit("pin") == sha256(COMPOSE)
    assert compose.read_bytes() == COMPOSE
    assert fold(load(journal).events).step("pin").active_edit is None


def test_a_crash_before_the_rename_leaves_the_step_to_do(tmp_path: Path) -> None:
    journal = _crash(tmp_path, "before")
    compose = tmp_path / "docker-compose.yml"
    assert compose.read_bytes() == COMPOSE
    session, _ = _resume(journal, tmp_path)
    reconciled = [e for e in load(journal).events if isinstance(e, ev.EditReconciled)]
    assert [(e.found, e.sha256) for e in reconciled] == [("not_applied", sha256(COMPOSE))]
    assert session.state.step("pin").edits == ()
    assert session.state.step("pin").status is StepStatus.INTERRUPTED

    async def finish() -> bool:
        await session.start()
        done = await session.run_all()
        await session.finish()
        return done

    assert asyncio.run(finish()) is True  # the step was still to do, and ran
    assert compose.read_bytes() == EDITED
    assert len(fold(load(journal).events).step("pin").edits) == 1


def test_a_file_that_matches_neither_version_stops_the_resume(tmp_path: Path) -> None:
    journal = _crash(tmp_path, "after")
    compose = tmp_path / "docker-compose.yml"
    compose.write_bytes(b"services:\n  api:\n    image: registry.local/api:v9\n")  # someone else
    size = journal.stat().st_size
    with pytest.raises(EditReconcileError) as err:
        _resume(journal, tmp_path)
    message = str(err.value)
    assert str(compose.resolve()) in message
    assert sha256(COMPOSE) in message and sha256(EDITED) in message
    assert sha256(compose.read_bytes()) in message
    assert "backup" in message and "resume again" in message
    assert journal.stat().st_size == size  # nothing was written, nothing ran
    assert err.value.exit_code == 2


def test_plain_resume_names_the_changed_file_without_a_traceback(tmp_path: Path) -> None:
    journal = _crash(tmp_path, "after")
    (tmp_path / "docker-compose.yml").write_bytes(b"services: {}\n")
    proc = run_cli("resume", journal.stem, "--plain", "--yes", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "matches neither version" in proc.stderr and "docker-compose.yml" in proc.stderr


def test_a_failure_after_the_plan_is_settled_in_the_same_run(tmp_path: Path) -> None:
    """A backup folder that cannot be written: the plan was journalled, the file was not touched."""
    runbook = runbook_from(tmp_path, RUNBOOK)
    compose = tmp_path / "docker-compose.yml"
    compose.write_bytes(COMPOSE)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the backup folder should be\n")
    session = Session(runbook, "main", workdir=tmp_path, ask=YesAsker(), backup_dir=blocked / "backups")
    recorder = Recorder()
    session.subscribe(recorder)

    async def go() -> StepStatus:
        await session.start()
        await session.run_step("before")
        return await session.run_step("pin")

    assert asyncio.run(go()) is StepStatus.FAILED
    assert compose.read_bytes() == COMPOSE
    kinds = recorder.kinds("pin")
    assert kinds.index("edit_planned") < kinds.index("edit_reconciled") < kinds.index("step_finished")
    (reconciled,) = recorder.of(ev.EditReconciled)
    assert isinstance(reconciled, ev.EditReconciled) and reconciled.found == "not_applied"
    assert session.state.step("pin").planned_edits == ()


def _resume_app(journal: Path, work: Path) -> Any:
    from runbook_tui.core.loader import load_runbook
    from runbook_tui.ui.app import AppOptions, RunbookApp

    options = AppOptions(
        runbook=load_runbook(work / "runbook.yaml"),
        resume_session=journal,
        probe_signals=False,
        find_entries=lambda dirs: [],
    )
    return RunbookApp(options)


@pytest.mark.slow
async def test_the_app_says_the_edit_was_recorded_on_resume(tmp_path: Path) -> None:
    from helpers.ui import notices, until

    journal = _crash(tmp_path, "after")
    app = _resume_app(journal, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: any("recorded it now" in n for n in notices(app)))
    assert len(fold(load(journal).events).step("pin").edits) == 1


async def test_the_app_refuses_to_resume_over_a_changed_file(tmp_path: Path) -> None:
    from helpers.ui import notices, until

    journal = _crash(tmp_path, "after")
    (tmp_path / "docker-compose.yml").write_bytes(b"services: {}\n")
    before = journal.read_bytes()
    app = _resume_app(journal, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: any("cannot be resumed" in n for n in notices(app)))
        assert any("matches neither version" in n and "docker-compose.yml" in n for n in notices(app))
    assert journal.read_bytes() == before


def test_every_edit_is_journalled_before_and_after(tmp_path: Path) -> None:
    """A normal cargo_features run: edit_planned (with the backup's name) comes before file_edited."""
    cargo = tmp_path / "Cargo.toml"
    before = b'[package]\nname = "x"\n\n[features]\ndefault = ["a", "b"]\na = []\nb = []\n'
    cargo.write_bytes(before)
    text = """
runbook: 1
id: cargo
title: Cargo
procedures:
  - id: main
    title: Main
    steps:
      - id: drop-b
        title: Drop b
        kind: cargo_features
        remove: [b]
"""
    session = Session(runbook_from(tmp_path, text), "main", workdir=tmp_path, ask=YesAsker())
    recorder = Recorder()
    session.subscribe(recorder)

    async def go() -> StepStatus:
        await session.start()
        return await session.run_step("drop-b")

    assert asyncio.run(go()) is StepStatus.PASSED
    assert recorder.kinds("drop-b").index("edit_planned") < recorder.kinds("drop-b").index("file_edited")
    (planned,) = recorder.of(ev.EditPlanned)
    (edited,) = recorder.of(ev.FileEdited)
    assert isinstance(planned, ev.EditPlanned) and isinstance(edited, ev.FileEdited)
    assert (planned.path, planned.backup, planned.diff) == (edited.path, edited.backup, edited.diff)
    assert planned.before_sha256 == sha256(before) == edited.before_sha256
    assert planned.after_sha256 == sha256(cargo.read_bytes()) == edited.after_sha256
    assert planned.diff.startswith("--- a/Cargo.toml\n+++ b/Cargo.toml\n")
    assert session.state.step("drop-b").planned_edits == ()
