"""A session whose one shell step floods output, for the output-batching and pty tests."""

from __future__ import annotations

import sys
from pathlib import Path

from helpers.engine import Recorder, ScriptedAsker, runbook_from
from runbook_tui.core.engine import Session
from runbook_tui.core.events import StepStatus
from runbook_tui.core.journal import Journal, new_session_id


def flood_session(
    tmp_path: Path, command: str, params: dict[str, str] | None = None
) -> tuple[Session, Recorder]:
    runbook = runbook_from(tmp_path, STREAM.format(command=command))
    journal = Journal.create(new_session_id(runbook.id), dir=tmp_path / "sessions")
    session = Session(
        runbook, "main", workdir=tmp_path, ask=ScriptedAsker(), journal=journal, params=params or {}
    )
    rec = Recorder()
    session.subscribe(rec)
    return session, rec


async def run_session(session: Session) -> StepStatus:
    await session.start()
    status = await session.run_step("big")
    await session.finish()
    return status


def write_script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "writer.py"
    path.write_text(body)
    return f"{PY} {path}"


PY = sys.executable


STREAM = """
runbook: 1
id: batching
title: Batching
parameters:
  - name: token
    secret: true
procedures:
  - id: main
    title: Main
    steps:
      - id: big
        title: Many lines
        kind: shell
        command: {command}
"""
