"""Journal compatibility: new event kinds are additive; a reader skips and counts one it does not know."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from helpers.engine import ScriptedAsker, runbook_from

from runbook_tui.core import events as ev
from runbook_tui.core.engine import Session
from runbook_tui.core.journal import Journal, fold_file, load, new_session_id
from runbook_tui.core.journal.fold import fold
from runbook_tui.core.report import json_report
from runbook_tui.core.report.timeline import build_report

RUNBOOK = """
runbook: 1
id: compat
title: Compat
procedures:
  - id: main
    title: Main
    steps:
      - id: one
        title: One
        kind: shell
        command: echo one
      - id: two
        title: Two
        kind: shell
        command: echo two
"""

FUTURE = {"kind": "fleet_host_joined", "at": "2026-11-27T12:00:00.000000Z", "host": "web-3"}


def _session_journal(tmp_path: Path) -> Path:
    """A session that ran step one and was left open, with a future event after it."""
    runbook = runbook_from(tmp_path, RUNBOOK)
    journal = Journal.create(new_session_id(runbook.id))
    session = Session(runbook, "main", workdir=tmp_path, ask=ScriptedAsker(), journal=journal)

    async def go() -> None:
        await session.start()
        await session.run_step("one")
        session.close()

    asyncio.run(go())
    with journal.path.open("a") as handle:
        handle.write(json.dumps(FUTURE) + "\n")
    return journal.path


def test_an_unknown_kind_is_skipped_and_counted_by_every_reader(tmp_path: Path) -> None:
    path = _session_journal(tmp_path)
    loaded = load(path)
    assert not loaded.torn_tail
    assert [p for p in loaded.problems if "'fleet_host_joined' is not known" in p]
    assert fold(loaded.events).step("one").status is ev.StepStatus.PASSED
    folded = fold_file(path)
    assert [p for p in folded.problems if "'fleet_host_joined' is not known" in p]
    report = build_report(path)
    assert [p for p in report.problems if "'fleet_host_joined' is not known" in p]
    data = json.loads(json_report.render(report))
    assert any("fleet_host_joined" in p for p in data["journal"]["problems"])


def test_a_session_with_an_unknown_kind_resumes(tmp_path: Path) -> None:
    path = _session_journal(tmp_path)
    runbook = runbook_from(tmp_path, RUNBOOK)
    session = Session.resume(path, runbook, ScriptedAsker(), workdir=tmp_path)

    async def go() -> bool:
        await session.start()
        ok = await session.run_all()
        await session.finish()
        return ok

    assert asyncio.run(go()) is True
    assert session.state.step("one").attempts == 1  # not run again


def test_a_malformed_known_kind_is_an_error_not_an_unknown_kind() -> None:
    with pytest.raises(ev.UnknownEventKind):
        ev.from_dict(FUTURE)
    broken = {"kind": "step_finished", "at": "2026-11-27T12:00:00.000000Z", "step_id": "one"}
    with pytest.raises(ev.EventDecodeError) as caught:
        ev.from_dict(broken)
    assert not isinstance(caught.value, ev.UnknownEventKind)
    with pytest.raises(ev.EventDecodeError):
        ev.from_dict({"at": "2026-11-27T12:00:00.000000Z"})


def test_a_status_this_version_does_not_know_is_not_claimed() -> None:
    events = [ev.StepFinished(step_id="one", status="partly", duration=1.0, at=1.0)]
    assert fold(events).step("one").status is ev.StepStatus.UNKNOWN
