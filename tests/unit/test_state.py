"""The session state fold: pure, complete, and bounded however much a step prints."""

from __future__ import annotations

import tracemalloc

import pytest

from runbook_tui.core import events as ev
from runbook_tui.core.events import StepStatus
from runbook_tui.core.journal.fold import TAIL_LINES, SessionState, StateFolder, apply, fold


def _start() -> ev.SessionStarted:
    return ev.SessionStarted(
        session_id="s",
        runbook_id="rb",
        runbook_title="RB",
        runbook_path="rb.yaml",
        runbook_sha256="00",
        procedure_id="p",
        procedure_title="P",
        mode="drill",
        operator="me@host",
        app_version="0.1.0",
        target_seconds=60.0,
        at=1000.0,
    )


def test_session_level_facts() -> None:
    state = fold(
        [
            _start(),
            ev.ParameterSet(name="tag", value="v1", source="command-line", at=1001.0),
            ev.ParameterSet(name="token", value="••••••", secret=True, at=1002.0),
            ev.DecisionMade(row_id="r1", issue="503s", procedure_id="p", deadline_seconds=600, at=1003.0),
            ev.MilestoneReached(milestone="mitigated", step_id="a", at=1004.0),
            ev.WindowWarning(scope="procedure", elapsed=48, target=60, at=1048.0),
            ev.WindowBreached(scope="procedure", elapsed=61, target=60, at=1061.0),
            ev.ChecklistTicked(checklist_id="post", item=0, at=1062.0),
            ev.ChecklistTicked(checklist_id="post", item=2, at=1063.0),
            ev.ChecklistTicked(checklist_id="post", item=0, done=False, at=1064.0),
            ev.TemplateFilled(template_id="alert", text="We rolled back", at=1065.0),
            ev.NoteAdded(text="paged the DBA", at=1066.0),
            ev.SessionResumed(operator="me@other", torn_tail=True, at=1067.0),
            ev.SessionFinished(outcome="succeeded", duration=70.0, at=1070.0),
        ]
    )
    assert (state.runbook_id, state.procedure_id, state.mode, state.operator) == (
        "rb",
        "p",
        "drill",
        "me@host",
    )
    assert state.started_at == 1000.0 and state.finished_at == 1070.0
    assert state.params == {"tag": "v1", "token": "••••••"}
    assert state.secret_params == {"token"}
    assert state.param_sources["tag"] == "command-line"
    assert state.decision is not None and state.decision.row_id == "r1"
    assert [m.milestone for m in state.milestones] == ["mitigated"]
    assert len(state.warnings) == 1 and len(state.breaches) == 1
    assert state.checklist == {"post": frozenset({2})}
    assert state.templates == {"alert": "We rolled back"}
    assert [n.text for n in state.notes] == ["paged the DBA"]
    assert state.resumed == 1 and state.torn_resumes == 1
    assert state.outcome == "succeeded" and state.finished
    assert state.event_count == 14
    assert state.elapsed(1030.0) == 30.0


def test_step_lifecycle() -> None:
    events: list[ev.Event] = [
        _start(),
        ev.ConfirmationDeclined(step_id="edit", message="change Cargo.toml?", at=1001),
        ev.ConfirmationGiven(step_id="edit", message="change Cargo.toml?", by="--yes", at=1002),
        ev.StepStarted(step_id="edit", title="Edit", step_kind="cargo_features", phase="step", at=1003),
        ev.FileEdited(
            step_id="edit",
            path="Cargo.toml",
            backup="b",
            diff="-a\n+b",
            before_sha256="1",
            after_sha256="2",
            at=1004,
        ),
        ev.StepFinished(step_id="edit", status="passed", duration=1.5, at=1004.5),
        ev.EditUndone(step_id="edit", path="Cargo.toml", restored_sha256="1", at=1005),
        ev.StepStarted(step_id="sh", title="Sh", step_kind="shell", phase="step", command="run: x", at=1006),
        ev.OutputLine(step_id="sh", seq=1, stream="stdout", text="one", at=1006.1),
        ev.OutputLine(step_id="sh", seq=2, stream="stderr", text="two", at=1006.2),
        ev.StepFinished(step_id="sh", status="failed", duration=1, exit_code=3, message="exited 3", at=1007),
        ev.StepStarted(step_id="sh", title="Sh", step_kind="shell", phase="step", attempt=2, at=1008),
        ev.NoteAdded(text="retrying", step_id="sh", at=1008.5),
        ev.StepSkipped(step_id="later", reason="not needed in staging", at=1009),
        ev.StepInterrupted(step_id="sh", attempt=2, at=1010),
        ev.StepMarkedDone(step_id="sh", note="it finished in another shell", at=1011),
    ]
    state = fold(events)
    edit = state.step("edit")
    assert edit.confirmed_by == "--yes" and not edit.declined and edit.status is StepStatus.PASSED
    assert len(edit.edits) == 1 and edit.edits[0].undone and edit.active_edit is None
    sh = state.step("sh")
    assert sh.attempts == 2 and sh.output_lines == 2 and sh.last_seq == 2
    assert [(t.stream, t.text) for t in sh.tail] == [("stdout", "one"), ("stderr", "two")]
    assert sh.status is StepStatus.PASSED and sh.done_note == "it finished in another shell"
    assert sh.notes == ("retrying",)
    assert state.step("later").status is StepStatus.SKIPPED
    assert state.step("later").skip_reason == "not needed in staging"
    assert state.step("never-touched").status is StepStatus.PENDING
    assert state.step_order == ("edit", "sh", "later")

    # Each prefix of the events folds the same way step by step.
    interrupted = fold(events[:-1])
    assert interrupted.step("sh").status is StepStatus.INTERRUPTED
    declined = fold(events[:2])
    assert declined.step("edit").status is StepStatus.NEEDS_YOU and declined.step("edit").declined


def test_apply_is_pure() -> None:
    before = fold([_start()])
    after = apply(before, ev.StepStarted(step_id="a", title="A", step_kind="shell", phase="step", at=1001))
    assert "a" not in before.steps and before.event_count == 1
    assert after.step("a").status is StepStatus.RUNNING and after.event_count == 2
    again = apply(after, ev.OutputLine(step_id="a", seq=1, stream="stdout", text="x", at=1002))
    assert after.step("a").output_lines == 0 and again.step("a").output_lines == 1


def test_fold_equals_applying_one_by_one() -> None:
    events: list[ev.Event] = [_start()]
    events += [
        ev.OutputLine(step_id="a", seq=i, stream="stdout", text=str(i), at=1000 + i) for i in range(80)
    ]
    events.append(ev.StepFinished(step_id="a", status="passed", duration=80, at=1100))
    state = SessionState()
    for event in events:
        state = apply(state, event)
    assert state == fold(events)


@pytest.mark.slow
def test_tail_is_bounded_however_much_a_step_prints() -> None:
    folder = StateFolder()
    folder.apply(_start())
    tracemalloc.start()
    try:
        base, _ = tracemalloc.get_traced_memory()
        for seq in range(1, 200_001):
            folder.apply(
                ev.OutputLine(step_id="big", seq=seq, stream="stdout", text=f"line {seq:07d}", at=2000.0)
            )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    state = folder.state
    big = state.step("big")
    assert big.output_lines == 200_000
    assert len(big.tail) == TAIL_LINES
    assert big.tail[-1].text == "line 0200000" and big.tail[0].seq == 200_000 - TAIL_LINES + 1
    assert peak - base < 2_000_000, f"state grew by {peak - base} bytes"
