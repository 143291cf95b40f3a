"""The engine against real processes and real files: gates, parameters, secrets, clock, watch, edits."""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.engine import Recorder, ScriptedAsker, runbook_from

from runbook_tui.core import events as ev
from runbook_tui.core.asker import ManualAnswer, YesAsker
from runbook_tui.core.engine import Session
from runbook_tui.core.errors import ParameterError, UsageError
from runbook_tui.core.events import Outcome, StepStatus
from runbook_tui.core.journal import Journal, load, new_session_id
from runbook_tui.core.journal.fold import fold
from runbook_tui.core.params import REDACTED


def _session(
    tmp_path: Path, yaml: str, asker: object | None = None, *, journal: bool = True, **kw: object
) -> tuple[Session, Recorder]:
    runbook = runbook_from(tmp_path, yaml)
    j = Journal.create(new_session_id(runbook.id)) if journal else None
    session = Session(
        runbook,
        runbook.procedures[0],
        workdir=tmp_path,
        ask=asker or ScriptedAsker(),  # type: ignore[arg-type]
        journal=j,
        operator="tester@host",
        **kw,  # type: ignore[arg-type]
    )
    recorder = Recorder()
    session.subscribe(recorder)
    return session, recorder


def _journal_text(session: Session) -> str:
    assert session.journal_path is not None
    return session.journal_path.read_text()


SIMPLE = """
runbook: 1
id: simple
title: Simple
procedures:
  - id: main
    title: Main
    prechecks:
      - id: pre
        title: Pre-check
        kind: shell
        command: "{precheck}"
    steps:
      - id: a
        title: Step A
        kind: shell
        command: "touch a-ran && echo one && echo two >&2"
        milestone: mitigated
      - id: b
        title: Step B
        kind: shell
        command: "touch b-ran"
"""


async def test_a_clean_run_succeeds_and_the_journal_folds_to_the_live_state(tmp_path: Path) -> None:
    session, rec = _session(tmp_path, SIMPLE.format(precheck="true"))
    await session.start()
    assert await session.run_all() is True
    session.note("all good", step_id="b")
    assert await session.finish() is Outcome.SUCCEEDED
    assert (tmp_path / "a-ran").exists() and (tmp_path / "b-ran").exists()
    assert rec.kinds("a") == ["step_started", "output", "output", "step_finished", "milestone"]
    out = rec.output("a")
    assert [(o.seq, o.stream, o.text) for o in out] == [(1, "stdout", "one"), (2, "stderr", "two")] or [
        (o.seq, o.stream, o.text) for o in out
    ] == [(1, "stderr", "two"), (2, "stdout", "one")]
    live = session.state
    assert live.outcome == "succeeded" and live.step("b").notes == ("all good",)
    assert live.runbook_sha256 and live.operator == "tester@host"
    assert session.journal_path is not None
    assert fold(load(session.journal_path).events) == live


async def test_a_failed_precheck_stops_the_run(tmp_path: Path) -> None:
    session, _rec = _session(tmp_path, SIMPLE.format(precheck="exit 3"))
    await session.start()
    assert await session.run_all(stop_on_failure=False) is False
    assert not (tmp_path / "a-ran").exists()
    pre = session.state.step("pre")
    assert pre.status is StepStatus.FAILED and pre.exit_code == 3
    assert session.state.step("a").status is StepStatus.PENDING
    assert await session.finish() is Outcome.FAILED


async def test_skip_needs_a_reason_and_counts_as_done(tmp_path: Path) -> None:
    session, _rec = _session(tmp_path, SIMPLE.format(precheck="true"))
    await session.start()
    with pytest.raises(UsageError, match="needs a reason"):
        session.skip("a", "  ")
    with pytest.raises(UsageError, match="no step 'nope'"):
        session.skip("nope", "why not")
    session.skip("a", "done by hand earlier")
    assert await session.run_all() is True
    assert not (tmp_path / "a-ran").exists() and (tmp_path / "b-ran").exists()
    assert session.state.step("a").skip_reason == "done by hand earlier"
    assert await session.finish() is Outcome.SUCCEEDED


async def test_retry_is_a_new_attempt(tmp_path: Path) -> None:
    yaml = """
    runbook: 1
    id: retry
    title: Retry
    procedures:
      - id: main
        title: Main
        steps:
          - id: flaky
            title: Flaky
            kind: shell
            command: "if [ -e second ]; then echo ok; else touch second; exit 1; fi"
    """
    session, rec = _session(tmp_path, yaml)
    await session.start()
    assert await session.run_step("flaky") is StepStatus.FAILED
    assert await session.run_step("flaky") is StepStatus.PASSED
    started = rec.of(ev.StepStarted)
    assert [e.attempt for e in started] == [1, 2]  # type: ignore[attr-defined]
    assert session.state.step("flaky").attempts == 2
    assert await session.finish() is Outcome.SUCCEEDED


GATED = """
runbook: 1
id: gated
title: Gated
procedures:
  - id: main
    title: Main
    steps:
      - id: drop
        title: Drop the cache
        kind: shell
        command: "touch dropped"
        confirm: This deletes the cache
      - id: after
        title: After
        kind: shell
        command: "touch after"
"""


async def test_a_declined_confirmation_leaves_the_step_waiting(tmp_path: Path) -> None:
    asker = ScriptedAsker(confirm_answer=False)
    session, rec = _session(tmp_path, GATED, asker)
    await session.start()
    assert await session.run_all() is False
    assert not (tmp_path / "dropped").exists() and not (tmp_path / "after").exists()
    assert [r.message for r in asker.confirms] == ["This deletes the cache"]
    assert rec.kinds("drop") == ["confirmation_declined"]
    assert session.state.step("drop").status is StepStatus.NEEDS_YOU
    # Asked again, and confirmed this time: it runs, and the journal says who confirmed.
    asker.confirm_answer = True
    assert await session.run_all() is True
    assert (tmp_path / "dropped").exists()
    assert session.state.step("drop").confirmed_by == "engineer"
    assert await session.finish() is Outcome.SUCCEEDED


async def test_yes_confirms_and_is_recorded_as_yes(tmp_path: Path) -> None:
    session, rec = _session(tmp_path, GATED, YesAsker())
    await session.start()
    assert await session.run_all() is True
    given = rec.of(ev.ConfirmationGiven)
    assert [(g.step_id, g.by) for g in given] == [("drop", "--yes")]  # type: ignore[attr-defined]
    await session.finish()


CARGO = """\
[package]
name = "demo"
version = "0.1.0"

# features the rollback turns off
[features]
default = ["advanced_fuel_metering", "telemetry"]  # keep this comment
advanced_fuel_metering = []
telemetry = []
"""


CARGO_RUNBOOK = """
runbook: 1
id: cargo
title: Cargo
procedures:
  - id: main
    title: Main
    steps:
      - id: disable
        title: Disable advanced fuel metering
        kind: cargo_features
        remove: [advanced_fuel_metering]
"""


async def test_an_edit_shows_its_diff_writes_and_undoes(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text(CARGO)
    asker = ScriptedAsker()
    session, rec = _session(tmp_path, CARGO_RUNBOOK, asker)
    await session.start()
    assert await session.run_step("disable") is StepStatus.PASSED
    assert len(asker.confirms) == 1 and asker.confirms[0].diff is not None
    assert '-default = ["advanced_fuel_metering", "telemetry"]' in asker.confirms[0].diff
    edited = (tmp_path / "Cargo.toml").read_text()
    assert 'default = ["telemetry"]  # keep this comment' in edited
    assert rec.kinds("disable")[:2] == ["confirmation_given", "step_started"]
    assert session.state.step("disable").active_edit is not None

    session.undo_edit("disable")
    assert (tmp_path / "Cargo.toml").read_text() == CARGO
    assert rec.kinds("disable")[-1] == "edit_undone"
    assert session.state.step("disable").edits[0].undone
    with pytest.raises(UsageError, match="no file edit to undo"):
        session.undo_edit("disable")
    await session.finish()
    assert session.journal_path is not None
    assert fold(load(session.journal_path).events) == session.state


async def test_an_edit_undone_after_the_session_finished_is_journalled(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text(CARGO)
    session, _ = _session(tmp_path, CARGO_RUNBOOK, ScriptedAsker())
    await session.start()
    assert await session.run_step("disable") is StepStatus.PASSED
    assert await session.finish() is Outcome.SUCCEEDED
    session.close()  # as the headless runner does on its way out: a no-op after the end

    session.undo_edit("disable")  # the incident commander changes their mind after the end

    assert (tmp_path / "Cargo.toml").read_text() == CARGO
    assert session.journal_path is not None
    events = load(session.journal_path).events
    assert [e.kind for e in events[-2:]] == ["session_finished", "edit_undone"]
    assert fold(events) == session.state


PARAMS = """
runbook: 1
id: params
title: Params
parameters:
  - name: tag
    description: the image tag to roll back to
  - name: target
    pattern: '^v[0-9]+$'
    choices_from:
      command: "printf 'v3\\nv2\\nv1\\n'"
  - name: token
    secret: true
procedures:
  - id: main
    title: Main
    steps:
      - id: echo-tag
        title: Echo the tag
        kind: shell
        command: "printf '%s\\n' {{tag}}; ls"
      - id: pick
        title: Pick {{target}}
        kind: shell
        command: "echo picked {{target}}"
      - id: use-token
        title: Use the token
        kind: shell
        command: "echo token={{token}}; echo {{token}} >&2; echo \\"Bearer {{token}}\\" > header.txt"
"""


async def test_a_hostile_value_reaches_the_command_as_one_inert_word(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "precious").write_text("keep me")
    (tmp_path / "victim.txt").write_text("keep me too")
    hostile = "v1; rm -rf ~; rm -f victim.txt $(touch pwned) `touch pwned2`"
    session, rec = _session(tmp_path, PARAMS, env={"HOME": str(home)}, params={"tag": hostile})
    await session.start()
    assert await session.run_step("echo-tag") is StepStatus.PASSED
    assert rec.output("echo-tag")[0].text == hostile
    assert (home / "precious").read_text() == "keep me"
    assert (tmp_path / "victim.txt").exists()
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "pwned2").exists()
    await session.finish(aborted=True)


async def test_parameters_are_asked_right_before_the_step_that_needs_them(tmp_path: Path) -> None:
    asker = ScriptedAsker(params={"target": "v2"})
    session, rec = _session(tmp_path, PARAMS, asker, params={"tag": "v9"})
    await session.start()
    assert await session.run_step("echo-tag") is StepStatus.PASSED
    assert asker.asked == []
    assert await session.run_step("pick") is StepStatus.PASSED
    assert asker.asked == [("target", ["v3", "v2", "v1"])]
    assert [o.text for o in rec.output("pick")] == ["picked v2"]
    assert session.state.params["target"] == "v2" and session.state.param_sources["target"] == "choices"
    kinds = rec.kinds()
    assert kinds.index("parameter_set", kinds.index("step_finished")) < kinds.index("step_started", 3)
    assert session.state.step("pick").title == "Pick v2"
    await session.finish(aborted=True)


async def test_an_invalid_answer_fails_closed_and_runs_nothing(tmp_path: Path) -> None:
    asker = ScriptedAsker(params={"target": "v2; touch pwned"})
    session, rec = _session(tmp_path, PARAMS, asker)
    await session.start()
    assert await session.run_step("pick") is StepStatus.FAILED
    pick = session.state.step("pick")
    assert "target" in pick.message and "does not match" in pick.message
    assert "step_started" not in rec.kinds("pick") and not (tmp_path / "pwned").exists()
    # No value at all for a required parameter: fails closed too.
    asker.params = {}
    assert await session.run_step("pick") is StepStatus.FAILED
    assert "is required" in session.state.step("pick").message
    await session.finish(aborted=True)


def test_bad_values_given_up_front_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="not declared"):
        _session(tmp_path, PARAMS, params={"nope": "1"})
    with pytest.raises(ParameterError, match=r"'target'.*does not match"):
        _session(tmp_path, PARAMS, params={"target": "latest"})


async def test_tags_from_an_earlier_step_are_offered(tmp_path: Path) -> None:
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "x"], check=True)
    for tag in ("v1.2.0", "v1.10.0", "v1.9.0"):
        subprocess.run([*git, "tag", tag], check=True)
    yaml = """
    runbook: 1
    id: tags
    title: Tags
    parameters:
      - name: target
    procedures:
      - id: main
        title: Main
        steps:
          - id: list
            title: List tags
            kind: git
            action: tags
            repo: repo
          - id: use
            title: Use
            kind: shell
            command: "echo {{target}}"
    """
    asker = ScriptedAsker(params={"target": "v1.9.0"})
    session, _rec = _session(tmp_path, yaml, asker)
    await session.start()
    assert await session.run_all() is True
    assert asker.asked == [("target", ["v1.10.0", "v1.9.0", "v1.2.0"])]
    await session.finish()


async def test_secrets_never_reach_output_state_or_journal(tmp_path: Path) -> None:
    secret = "hunter2-S3cr3t!"
    session, rec = _session(tmp_path, PARAMS, params={"token": secret})
    await session.start()
    assert await session.run_step("use-token") is StepStatus.PASSED
    session.note(f"rotated {secret} afterwards", step_id="use-token")
    await session.finish(aborted=True)
    assert (tmp_path / "header.txt").read_text() == f"Bearer {secret}\n"  # the command got the real value
    texts = [o.text for o in rec.output("use-token")]
    assert sorted(texts) == sorted([f"token={REDACTED}", REDACTED])
    started = rec.of(ev.StepStarted)[0]
    assert secret not in started.command and REDACTED in started.command  # type: ignore[attr-defined]
    assert session.state.params["token"] == REDACTED
    assert secret not in repr(session.state)
    assert secret not in _journal_text(session)
    assert secret.encode() not in session.journal_path.read_bytes()  # type: ignore[union-attr]


async def test_ansi_is_stripped_for_the_record_and_kept_for_display(tmp_path: Path) -> None:
    yaml = r"""
    runbook: 1
    id: colour
    title: Colour
    procedures:
      - id: main
        title: Main
        steps:
          - id: c
            title: Colour
            kind: shell
            command: |
              printf '\033[31mred\033[0m\n'; printf 'plain\n' >&2; printf '\033[1mbold\033[0m\n'
    """
    session, rec = _session(tmp_path, yaml)
    await session.start()
    await session.run_step("c")
    await session.finish()
    out = rec.output("c")
    assert sorted(o.seq for o in out) == [1, 2, 3]
    by_text = {o.text: o for o in out}
    assert set(by_text) == {"red", "plain", "bold"}
    assert by_text["red"].ansi == "\x1b[31mred\x1b[0m" and by_text["plain"].ansi == ""
    assert "\x1b" not in _journal_text(session)


async def test_manual_steps_ask_and_keep_the_note(tmp_path: Path) -> None:
    yaml = """
    runbook: 1
    id: manual
    title: Manual
    procedures:
      - id: main
        title: Main
        steps:
          - id: tell
            title: Tell the team
            kind: manual
            instructions: Post in #incidents
    """
    asker = ScriptedAsker(manual_answer=ManualAnswer(False, "channel is down"))
    session, _rec = _session(tmp_path, yaml, asker)
    await session.start()
    assert await session.run_all() is False
    assert session.state.step("tell").status is StepStatus.NEEDS_YOU
    asker.manual_answer = ManualAnswer(True, "posted by phone")
    assert await session.run_all() is True
    assert session.state.step("tell").notes == ("channel is down", "posted by phone")
    assert await session.finish() is Outcome.SUCCEEDED


async def test_cancel_stops_the_step_and_its_processes(tmp_path: Path) -> None:
    yaml = """
    runbook: 1
    id: cancel
    title: Cancel
    procedures:
      - id: main
        title: Main
        steps:
          - id: long
            title: Long
            kind: shell
            command: "echo $$ > pid; sleep 30"
    """
    session, rec = _session(tmp_path, yaml)
    await session.start()
    task = asyncio.create_task(session.run_step("long"))
    while not rec.output("long") and not (tmp_path / "pid").exists():
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.1)
    assert session.cancel("long")
    assert await task is StepStatus.CANCELLED
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert session.state.step("long").status is StepStatus.CANCELLED
    assert await session.finish() is Outcome.FAILED


async def test_window_warning_then_breach(tmp_path: Path) -> None:
    yaml = """
    runbook: 1
    id: clock
    title: Clock
    procedures:
      - id: main
        title: Main
        recovery_window: 1s
        steps:
          - id: slow
            title: Slow
            kind: shell
            command: "sleep 1.8; echo done"
    """
    session, rec = _session(tmp_path, yaml)
    await session.start()
    assert await session.run_all() is True
    await session.finish()
    warning, breach = rec.of(ev.WindowWarning), rec.of(ev.WindowBreached)
    assert len(warning) == 1 and len(breach) == 1
    started = session.state.started_at
    assert started is not None
    assert 0.8 <= warning[0].at - started < 1.0 + 0.3  # timers may run late on a busy machine
    assert 1.0 < breach[0].at - started < 1.0 + 0.5
    assert warning[0].elapsed >= 0.8 and breach[0].elapsed > 1.0  # type: ignore[attr-defined]
    assert breach[0].scope == "procedure" and breach[0].target == 1.0  # type: ignore[attr-defined]
    order = rec.kinds()
    assert order.index("window_warning") < order.index("window_breached") < order.index("step_finished")


async def test_a_decision_deadline_is_timed_too(tmp_path: Path) -> None:
    yaml = """
    runbook: 1
    id: deadline
    title: Deadline
    decision_matrix:
      rows:
        - id: slow-ui
          issue: Slow UI
          action: Roll back
          procedure: main
          deadline: 1s
    procedures:
      - id: main
        title: Main
        steps:
          - id: wait
            title: Wait
            kind: shell
            command: "sleep 1.2"
    """
    session, rec = _session(tmp_path, yaml)
    await session.start()
    session.decide("slow-ui")
    await session.run_all()
    await session.finish()
    assert [b.scope for b in rec.of(ev.WindowBreached)] == ["slow-ui"]  # type: ignore[attr-defined]
    assert session.state.decision is not None and session.state.decision.deadline_seconds == 1.0


async def test_a_watch_runs_in_the_background_while_the_next_step_runs(tmp_path: Path) -> None:
    yaml = """
    runbook: 1
    id: watch
    title: Watch
    procedures:
      - id: main
        title: Main
        steps:
          - id: logs
            title: Watch the logs
            kind: watch
            command: "while true; do echo tick; sleep 0.1; done"
            duration: 1s
          - id: work
            title: Work
            kind: shell
            command: "sleep 0.4; echo worked"
    """
    session, rec = _session(tmp_path, yaml)
    await session.start()
    began = time.monotonic()
    assert await session.run_all() is True
    assert time.monotonic() - began < 0.9  # did not wait for the watch
    assert session.state.step("logs").status is StepStatus.RUNNING
    assert await session.finish() is Outcome.SUCCEEDED
    watch_start = next(e for e in rec.of(ev.StepStarted) if e.step_id == "logs")  # type: ignore[attr-defined]
    watch_end = next(e for e in rec.of(ev.StepFinished) if e.step_id == "logs")  # type: ignore[attr-defined]
    work_start = next(e for e in rec.of(ev.StepStarted) if e.step_id == "work")  # type: ignore[attr-defined]
    work_end = next(e for e in rec.of(ev.StepFinished) if e.step_id == "work")  # type: ignore[attr-defined]
    assert watch_start.at <= work_start.at < work_end.at < watch_end.at
    ticks_during_work = [o for o in rec.output("logs") if work_start.at < o.at < work_end.at]
    assert len(ticks_during_work) >= 2
    assert watch_end.status == "passed"  # type: ignore[attr-defined]


async def test_finish_can_cancel_a_background_watch(tmp_path: Path) -> None:
    yaml = """
    runbook: 1
    id: watch2
    title: Watch
    procedures:
      - id: main
        title: Main
        steps:
          - id: logs
            title: Watch
            kind: watch
            command: "sleep 30"
            duration: 30s
    """
    session, _rec = _session(tmp_path, yaml)
    await session.start()
    await session.run_all()
    while session.state.step("logs").status is not StepStatus.RUNNING:
        await asyncio.sleep(0.01)
    began = time.monotonic()
    assert await session.finish(aborted=True) is Outcome.ABORTED
    assert time.monotonic() - began < 5
    assert session.state.step("logs").status is StepStatus.CANCELLED


async def test_a_step_kind_without_a_runner_fails_only_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from runbook_tui.core.steps import registry

    def missing() -> Any:  # a runner whose module is not in this build
        module = importlib.import_module("runbook_tui.core.steps.no_such_module")
        return module.Nope()

    monkeypatch.setitem(registry._RUNNERS, registry.StepKind.HTTP, missing)
    monkeypatch.setattr(registry, "_cache", {})
    yaml = """
    runbook: 1
    id: missing
    title: Missing
    procedures:
      - id: main
        title: Main
        steps:
          - id: h
            title: H
            kind: http
            url: http://127.0.0.1:9/
            continue_on_failure: true
          - id: s
            title: S
            kind: shell
            command: "true"
    """
    session, _rec = _session(tmp_path, yaml)
    await session.start()
    await session.run_all()
    assert "cannot run in this build" in session.state.step("h").message
    assert session.state.step("s").status is StepStatus.PASSED
    await session.finish()


@pytest.mark.slow
def test_a_million_lines_keep_memory_bounded_and_all_reach_the_journal(tmp_path: Path) -> None:
    """Run the engine in a child process twice (20k and 1M lines): memory must not grow with output."""
    import json
    import subprocess

    script = tmp_path / "big.py"
    script.write_text(
        """
import asyncio, json, sys
from pathlib import Path
from runbook_tui.core.asker import YesAsker
from runbook_tui.core.engine import Session
from runbook_tui.core.journal import Journal, load
from runbook_tui.core.model import Procedure, Runbook, ShellSpec, Step, StepKind

lines = int(sys.argv[1])
step = Step("big", "Big", StepKind.SHELL, ShellSpec(f"seq 1 {lines}"))
runbook = Runbook("big", "Big", (Procedure("main", "Main", (step,)),))

async def main():
    journal = Journal.create(f"big-{lines}", dir=Path(sys.argv[2]))
    session = Session(runbook, "main", workdir=Path.cwd(), ask=YesAsker(), journal=journal)
    await session.start()
    await session.run_all()
    await session.finish()
    state = session.state.step("big")
    # VmHWM: ru_maxrss survives exec, so it would report the pytest parent's peak.
    hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
    print(json.dumps({"rss_kb": hwm,
                      "lines": state.output_lines, "tail": [t.text for t in state.tail[-2:]],
                      "journal": str(journal.path)}))

asyncio.run(main())
"""
    )

    def run(lines: int) -> dict[str, Any]:
        done = subprocess.run(
            [sys.executable, str(script), str(lines), str(tmp_path / "sessions")],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    small = run(20_000)
    began = time.monotonic()
    big = run(1_000_000)
    elapsed = time.monotonic() - began
    assert big["lines"] == 1_000_000 and big["tail"] == ["999999", "1000000"]
    growth_mb = (int(big["rss_kb"]) - int(small["rss_kb"])) / 1024
    assert growth_mb < 25, f"50x the output grew peak RSS by {growth_mb:.1f} MB"
    # Every line is on disk, in order.
    count, last_seq = 0, 0
    with open(str(big["journal"]), encoding="utf-8") as fh:
        for line in fh:
            if line.startswith('{"kind":"output"'):
                record = json.loads(line)
                assert record["seq"] == last_seq + 1
                last_seq = record["seq"]
                count += 1
    assert count == 1_000_000
    big_mb, small_mb = int(big["rss_kb"]) // 1024, int(small["rss_kb"]) // 1024
    print(f"1M lines: {elapsed:.1f}s, peak RSS {big_mb} MB (20k lines: {small_mb} MB)")


@pytest.mark.docker
async def test_choices_from_docker_tags_come_from_the_engine(tmp_path: Path, docker_client: Any) -> None:
    from helpers.images import build_test_image

    repo = "rbt-engine-choices"
    build_test_image(docker_client, [f"{repo}:1.0.0", f"{repo}:1.2.0"], version="1.0.0")
    yaml = f"""
    runbook: 1
    id: dtags
    title: Docker tags
    parameters:
      - name: previous_tag
        choices_from:
          docker_tags: {repo}
    procedures:
      - id: main
        title: Main
        steps:
          - id: use
            title: Use
            kind: shell
            command: "echo {{{{previous_tag}}}}"
    """
    asker = ScriptedAsker(params={"previous_tag": "1.0.0"})
    session, rec = _session(tmp_path, yaml, asker)
    await session.start()
    assert await session.run_all() is True
    ((name, choices),) = asker.asked
    assert name == "previous_tag" and {"1.0.0", "1.2.0"} <= set(choices)
    assert [o.text for o in rec.output("use")] == ["1.0.0"]
    await session.finish()
