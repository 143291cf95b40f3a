"""Communication templates filled from the session, and the OSC 52 clipboard sequence."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from runbook_tui.core.model import DecisionMatrix, DecisionRow, Procedure, Runbook, Template
from runbook_tui.core.osc52 import osc52_copy
from runbook_tui.core.templates import facts_for, fill, status_for

SEED = Path("/work/shared/seeds/000_b08aebbf23993a48.txt")
INTERNAL = """ROLLBACK ALERT: Strict Connection Flow

Rollback Type: [Feature Flag/Code/Database]
Initiated By: [Name]
Reason: [Brief description of issue]
Impact: [Description of user impact]
Current Status: [In progress/Completed]
Next Steps: [Plan for addressing root cause]

Verification Needed:
- [List of specific functionality to verify]

See [the runbook](https://example.test/runbook) and tick [ ] when sent.
"""


def _runbook() -> Runbook:
    row = DecisionRow("conn-fail", "Connection failures", "Roll back the flag", impact="Users cannot connect")
    return Runbook(
        "strict",
        "Strict",
        (Procedure("flag", "Feature Flag Rollback", ()),),
        decision_matrix=DecisionMatrix((row,)),
    )


def test_known_fields_are_filled_and_the_rest_listed() -> None:
    facts = facts_for(
        procedure_title="Feature Flag Rollback",
        operator="alice@bastion-1",
        outcome=None,
        decision_row_id="conn-fail",
        runbook=_runbook(),
    )
    filled = fill(Template("internal", "Internal Rollback Notification", INTERNAL), facts)
    lines = filled.text.splitlines()
    assert "Rollback Type: Feature Flag Rollback" in lines
    assert "Initiated By: alice@bastion-1" in lines
    assert "Reason: Connection failures" in lines
    assert "Impact: Users cannot connect" in lines
    assert "Current Status: In progress" in lines
    assert "Next Steps: [Plan for addressing root cause]" in lines
    assert filled.missing == ("Plan for addressing root cause", "List of specific functionality to verify")
    # Links and checkboxes are not fields.
    assert lines[-1] == "See [the runbook](https://example.test/runbook) and tick [ ] when sent."
    assert filled.text.endswith("\n")


def test_unknown_facts_leave_the_field_for_the_engineer() -> None:
    facts = facts_for(
        procedure_title="Code Rollback", operator="bob@h", outcome="succeeded", first_note="503s"
    )
    filled = fill(Template("t", "T", INTERNAL), facts)
    assert "Reason: 503s" in filled.text and "Current Status: Completed" in filled.text
    assert "Impact: [Description of user impact]" in filled.text
    assert filled.missing[0] == "Description of user impact"


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        (None, "In progress"),
        ("unfinished", "In progress"),
        ("succeeded", "Completed"),
        ("aborted", "Rollback aborted"),
    ],
)
def test_status_words(outcome: str | None, status: str) -> None:
    assert status_for(outcome) == status


@pytest.mark.skipif(not SEED.exists(), reason="the seed runbooks are not on this machine")
def test_seed_templates_fill() -> None:
    blocks = re.split(r"^```.*$", SEED.read_text(encoding="utf-8"), flags=re.M)[1::2]
    internal = next(b.strip("\n") for b in blocks if b.strip().startswith("ROLLBACK ALERT"))
    filled = fill(
        Template("internal", "Internal", internal),
        facts_for(procedure_title="Feature Flag Rollback", operator="a@b", outcome="succeeded"),
    )
    assert "Rollback Type: Feature Flag Rollback" in filled.text and "Initiated By: a@b" in filled.text
    assert "[Brief description of issue]" in filled.text  # no decision, no note: left for the engineer


def test_osc52_plain_and_in_tmux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TMUX", raising=False)
    text = "ROLLBACK ALERT: ünïcode ✓\nline 2"
    seq = osc52_copy(text)
    assert seq.startswith("\x1b]52;c;") and seq.endswith("\x07")
    assert base64.b64decode(seq[len("\x1b]52;c;") : -1]).decode("utf-8") == text
    monkeypatch.setenv("TMUX", "/tmp/tmux-0/default,1,0")
    wrapped = osc52_copy(text)
    assert wrapped.startswith("\x1bPtmux;\x1b\x1b]52;c;") and wrapped.endswith("\x07\x1b\\")
    assert wrapped[len("\x1bPtmux;") : -2].replace("\x1b\x1b", "\x1b") == seq
    assert osc52_copy("x", tmux=False) == "\x1b]52;c;eA==\x07"
