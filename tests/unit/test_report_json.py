"""The JSON report matches docs/report-json.md key for key."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from helpers.journals import T0, rich_session
from helpers.paths import REPO_ROOT

from runbook_tui.core.report import json_report
from runbook_tui.core.report.timeline import build_report

DOC = REPO_ROOT / "docs" / "report-json.md"


def documented_keys() -> dict[str, set[str]]:
    """Heading -> the keys its table lists."""
    sections: dict[str, set[str]] = {}
    heading = ""
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        match = re.match(r"^\| `([a-z_0-9]+)` \|", line)
        if match:
            sections.setdefault(heading, set()).add(match.group(1))
    return sections


def _objects(data: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        "Top level": [data],
        "`session`": [data["session"]],
        "`journal`": [data["journal"]],
        "`metrics`": [data["metrics"]],
        "Window objects (`breaches`, `warnings`)": data["breaches"] + data["warnings"],
        "Row objects (`timeline`)": data["timeline"],
        "Decision objects": data["decisions"],
        "Parameter objects": data["parameters"],
        "Step objects (`steps`)": data["steps"],
        "Skip objects (`skipped`)": data["skipped"],
        "Confirmation objects": data["confirmations"],
        "Edit objects (`edits`)": data["edits"],
        "Note objects (`notes`)": data["notes"],
        "Template objects (`templates`)": data["templates"],
        "Checklist objects (`checklist`)": data["checklist"],
        "`incident`": [data["incident"]],
        "Role objects (`incident.roles`)": data["incident"]["roles"],
        "Action item objects (`incident.action_items`)": data["incident"]["action_items"],
        "Handoff objects (`incident.handoffs`)": data["incident"]["handoffs"],
        "`chain`": [data["chain"]],
    }


def _with_evidence(journal: Path) -> Path:
    """The sample session with a role, an action item and a handoff (issue 17) appended."""
    from runbook_tui.core import events as ev

    extra = [
        ev.RolesSet(roles={"incident_commander": "alice"}, by="alice", at=T0 + 400),
        ev.ActionItemAdded(text="alert on 503s", owner="bob", due="2027-01-01", author="alice", at=T0 + 401),
        ev.Handoff(from_operator="alice", to_operator="bob", reason="handoff", running=[], at=T0 + 402),
    ]
    with journal.open("a", encoding="utf-8") as handle:
        handle.writelines(json.dumps(ev.to_dict(e)) + "\n" for e in extra)
    return journal


def test_every_object_has_exactly_the_documented_keys(tmp_path: Path) -> None:
    data = json.loads(json_report.render(build_report(_with_evidence(rich_session(tmp_path)))))
    documented = documented_keys()
    objects = _objects(data)
    assert set(documented) == set(objects), "a documented section has no object, or the reverse"
    for heading, items in objects.items():
        assert items, f"the sample session has no {heading}"
        for item in items:
            assert set(item) == documented[heading], heading


def test_values_follow_the_journal(tmp_path: Path) -> None:
    data = json.loads(json_report.render(build_report(rich_session(tmp_path))))
    assert data["schema_version"] == json_report.SCHEMA_VERSION == 1
    assert data["session"]["outcome"] == "succeeded" and data["session"]["host"] == "bastion-1"
    assert [s["step_id"] for s in data["steps"]] == ["pre-health", "restart", "restart", "pin-tag", "verify"]
    assert [s["attempt"] for s in data["steps"]][1:3] == [1, 2]
    times = [r["at"] for r in data["timeline"]]
    assert times == sorted(times)
    secret = next(p for p in data["parameters"] if p["name"] == "token")
    assert secret["secret"] is True and secret["value"] == "••••••"
    assert data["metrics"]["within_target"] is False and data["metrics"]["over_by_seconds"] == 40.0
    assert data["checklist"] == [
        {
            "checklist_id": "post-rollback",
            "item": 0,
            "text": None,
            "done": True,
            "at": data["checklist"][0]["at"],
        }
    ]
