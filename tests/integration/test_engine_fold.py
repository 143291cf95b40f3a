"""The engine reads its state from the fold; secret values stay in the engine's memory alone.

Issue 14: the engine no longer keeps its own copies of parameter values, applied edits
and announced windows. These tests hold it to what those copies did, through the
public API and the journal, and check that no secret reaches the journal or the fold.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from helpers.engine import Recorder, ScriptedAsker, runbook_from

from runbook_tui.core import events as ev
from runbook_tui.core.engine import Session
from runbook_tui.core.journal import Journal, new_session_id

TOKEN = "s3cr3t-f0ld-t0ken"
CARRIED = "c4rr13d-s3cr3t-value"

RUNBOOK = """
runbook: 1
id: fold
title: Fold
parameters:
  - name: token
    secret: true
  - name: tag
procedures:
  - id: main
    title: Main
    steps:
      - id: one
        title: One {{tag}}
        kind: shell
        command: |
          printf '%s\\n' "$token" > one.txt
          API_PASSWORD="$(printf c4rr13d)-s3cr3t-$(printf value)"
          echo "tag {{tag}}"
      - id: two
        title: Two
        kind: shell
        command: printf '%s %s %s\\n' "$token" "$API_PASSWORD" "{{tag}}" > two.txt
"""


def test_a_secret_is_used_but_is_in_neither_the_journal_nor_the_state(tmp_path: Path) -> None:
    runbook = runbook_from(tmp_path, RUNBOOK)
    journal = Journal.create(new_session_id(runbook.id))
    asker = ScriptedAsker(params={"token": TOKEN, "tag": "v1.2.3"})
    session = Session(runbook, "main", workdir=tmp_path, ask=asker, journal=journal)
    seen = Recorder()
    session.subscribe(seen)

    async def run() -> None:
        await session.start()
        assert await session.run_all()
        # Read while the session runs: the fold says "••••••", the engine still knows the value.
        assert session.param_values() == {"token": TOKEN, "tag": "v1.2.3"}
        assert session.state.params["token"] != TOKEN
        await session.finish()

    asyncio.run(run())
    assert (tmp_path / "one.txt").read_text() == f"{TOKEN}\n"
    assert (tmp_path / "two.txt").read_text() == f"{TOKEN} {CARRIED} v1.2.3\n"
    text = journal.path.read_text()
    for secret in (TOKEN, CARRIED):
        assert secret not in text
        assert secret not in repr(session.state)
        assert not any(secret in repr(e) for e in seen.events)
    assert session.state.params["tag"] == "v1.2.3"
    assert session.state.carried["API_PASSWORD"].redacted


def test_a_value_recorded_before_a_resume_is_read_back_and_a_secret_asked_again(tmp_path: Path) -> None:
    runbook = runbook_from(tmp_path, RUNBOOK)
    journal = Journal.create(new_session_id(runbook.id))
    first = ScriptedAsker(params={"token": TOKEN, "tag": "v1.2.3"})
    session = Session(runbook, "main", workdir=tmp_path, ask=first, journal=journal)

    async def part_one() -> None:
        await session.start()
        await session.run_step("one")
        session.close()

    asyncio.run(part_one())
    again = ScriptedAsker(params={"token": "another-token", "API_PASSWORD": "again-carried"})
    resumed = Session.resume(journal.path, runbook, again, workdir=tmp_path, params={"tag": "v9"})
    assert resumed.param_values() == {"tag": "v1.2.3"}  # the secret was never journalled
    assert any("parameter tag stays 'v1.2.3' as recorded" in w for w in resumed.warnings)

    async def part_two() -> None:
        await resumed.start()
        assert await resumed.run_all()
        await resumed.finish()

    asyncio.run(part_two())
    assert sorted(name for name, _ in again.asked) == ["API_PASSWORD", "token"]
    assert (tmp_path / "two.txt").read_text() == "another-token again-carried v1.2.3\n"
    text = journal.path.read_text()
    assert "another-token" not in text and "again-carried" not in text


EDIT_RUNBOOK = """
runbook: 1
id: edits
title: Edits
procedures:
  - id: main
    title: Main
    steps:
      - id: bump
        title: Bump
        kind: compose_image
        file: compose.yaml
        service: web
        tag: v2
      - id: bump-again
        title: Bump again
        kind: compose_image
        file: compose.yaml
        service: web
        tag: v3
"""

COMPOSE = "services:\n  web:\n    image: app:v1\n"


def test_undo_after_a_resume_restores_each_edit_the_journal_holds_newest_first(tmp_path: Path) -> None:
    compose = tmp_path / "compose.yaml"
    compose.write_text(COMPOSE)
    runbook = runbook_from(tmp_path, EDIT_RUNBOOK)
    journal = Journal.create(new_session_id(runbook.id))
    session = Session(runbook, "main", workdir=tmp_path, ask=ScriptedAsker(), journal=journal)

    async def run() -> None:
        await session.start()
        assert await session.run_all()
        session.close()

    asyncio.run(run())
    assert "app:v3" in compose.read_text()
    resumed = Session.resume(journal.path, runbook, ScriptedAsker(), workdir=tmp_path)
    resumed.undo_edit("bump-again")
    assert "app:v2" in compose.read_text()
    resumed.undo_edit("bump")
    assert compose.read_text() == COMPOSE
    undone = [e for e in resumed.state.step("bump").edits if e.undone]
    assert len(undone) == 1
    try:
        resumed.undo_edit("bump")
    except Exception as exc:
        assert "has no file edit to undo" in str(exc)
    else:
        raise AssertionError("a second undo of one edit must be refused")


def test_a_resumed_session_does_not_announce_a_warning_it_journalled_again(tmp_path: Path) -> None:
    runbook = runbook_from(
        tmp_path,
        """
        runbook: 1
        id: clock
        title: Clock
        procedures:
          - id: main
            title: Main
            recovery_window: "< 1 second"
            steps:
              - id: wait
                title: Wait
                kind: shell
                command: sleep 1.2
        """,
    )
    journal = Journal.create(new_session_id(runbook.id))
    session = Session(runbook, "main", workdir=tmp_path, ask=ScriptedAsker(), journal=journal)

    async def run() -> None:
        await session.start()
        await session.run_all()
        session.close()

    asyncio.run(run())
    assert [w.scope for w in session.state.warnings] == ["procedure"]
    assert [b.scope for b in session.state.breaches] == ["procedure"]
    resumed = Session.resume(journal.path, runbook, ScriptedAsker(), workdir=tmp_path)
    seen = Recorder()
    resumed.subscribe(seen)

    async def finish() -> None:
        await resumed.start()
        await resumed.finish()

    asyncio.run(finish())
    assert not seen.of(ev.WindowWarning) and not seen.of(ev.WindowBreached)
