"""Journals written the way the engine writes them, for report, session and evidence tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from runbook_tui.core import events as ev

T0 = 1_795_000_000.0  # 2026-11-18T...Z; fixed so every time in a report is checkable


class JournalWriter:
    """Writes a journal the way the engine does: a header line, then one event per line."""

    def __init__(self, path: Path, session_id: str) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        header = {"schema": 1, "app": "runbook-tui", "version": "0.1.0", "session_id": session_id}
        path.write_text(json.dumps(header) + "\n", encoding="utf-8")
        self.events: list[ev.Event] = []

    def add(self, event: ev.Event) -> ev.Event:
        self.events.append(event)
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(ev.to_dict(event), separators=(",", ":")) + "\n")
        return event


def started(session_id: str, at: float = T0, **kw: Any) -> ev.SessionStarted:
    fields: dict[str, Any] = {
        "session_id": session_id,
        "runbook_id": "connectin",
        "runbook_title": "ConnectIn Rollback | Strategy",
        "runbook_path": "/nowhere/connectin.yaml",
        "runbook_sha256": "ab" * 32,
        "procedure_id": "app-rollback",
        "procedure_title": "Application Rollback (Docker)",
        "mode": "drill",
        "operator": "alice@bastion-1",
        "app_version": "0.1.0",
        "target_seconds": 300.0,
        "window_text": "< 5 minutes",
        "workdir": "/srv/app",
    }
    fields.update(kw)
    return ev.SessionStarted(at=at, **fields)


def rich_session(
    folder: Path, session_id: str = "20261118T100000Z-connectin-ab12", *, finish: bool = True, lines: int = 50
) -> Path:
    """A session with every kind of event: retries, a failure, a skip, an edit, a breach."""
    path = folder / f"{session_id}.jsonl"
    w = JournalWriter(path, session_id)
    w.add(started(session_id, impact_started_at=T0 - 120))
    w.add(
        ev.DecisionMade(
            at=T0 + 1, row_id="health-503", issue="Health check | 503", procedure_id="app-rollback"
        )
    )
    w.add(ev.ParameterSet(at=T0 + 2, name="previous_tag", value="v1.0.0", source="command-line"))
    w.add(ev.ParameterSet(at=T0 + 2.5, name="token", value="••••••", secret=True))
    w.add(
        ev.StepStarted(
            at=T0 + 3, step_id="pre-health", title="API answers", step_kind="http", phase="precheck"
        )
    )
    w.add(ev.StepFinished(at=T0 + 4, step_id="pre-health", status="passed", duration=1.0))
    w.add(ev.MilestoneReached(at=T0 + 4, milestone="acknowledged", step_id="pre-health"))
    cmd = "docker compose down api\ndocker compose up -d api"
    for attempt in (1, 2):
        base = T0 + 10 * attempt
        w.add(
            ev.StepStarted(
                at=base,
                step_id="restart",
                title="Restart api",
                step_kind="shell",
                phase="step",
                attempt=attempt,
                command=cmd,
            )
        )
        for i in range(lines):
            w.add(
                ev.OutputLine(
                    at=base + 0.01 * i,
                    step_id="restart",
                    seq=i,
                    stream="stderr",
                    text=f"attempt {attempt} line {i} | pipe",
                )
            )
        w.add(
            ev.StepFinished(
                at=base + 5,
                step_id="restart",
                status="failed",
                duration=5.0,
                exit_code=3,
                attempt=attempt,
                message="exit status 3",
            )
        )
    w.add(ev.StepSkipped(at=T0 + 30, step_id="migrate", reason="No schema change in this release"))
    w.add(ev.ConfirmationGiven(at=T0 + 31, step_id="pin-tag", message="Point api at v1.0.0"))
    w.add(
        ev.StepStarted(
            at=T0 + 31, step_id="pin-tag", title="Pin the image tag", step_kind="compose_image", phase="step"
        )
    )
    diff = "--- a/docker-compose.yml\n+++ b/docker-compose.yml\n@@ -1 +1 @@\n"
    diff += "-image: api:v1.1\n+image: api:v1.0.0\n"
    w.add(
        ev.FileEdited(
            at=T0 + 32,
            step_id="pin-tag",
            path="docker-compose.yml",
            backup="/b/1",
            diff=diff,
            before_sha256="1" * 64,
            after_sha256="2" * 64,
        )
    )
    w.add(ev.StepFinished(at=T0 + 33, step_id="pin-tag", status="passed", duration=2.0))
    w.add(ev.MilestoneReached(at=T0 + 33, milestone="mitigated", step_id="pin-tag"))
    w.add(ev.NoteAdded(at=T0 + 40, text="Rolled back | users notified", step_id="pin-tag", author="alice"))
    w.add(ev.WindowWarning(at=T0 + 240, scope="procedure", elapsed=240, target=300))
    w.add(ev.WindowBreached(at=T0 + 300, scope="procedure", elapsed=300, target=300))
    w.add(
        ev.StepStarted(
            at=T0 + 310, step_id="verify", title="Health is 200", step_kind="http", phase="verification"
        )
    )
    w.add(ev.OutputLine(at=T0 + 311, step_id="verify", seq=0, stream="info", text="GET /health -> 200"))
    w.add(ev.StepFinished(at=T0 + 312, step_id="verify", status="passed", duration=2.0))
    w.add(ev.MilestoneReached(at=T0 + 312, milestone="resolved", step_id="verify"))
    w.add(ev.TemplateFilled(at=T0 + 320, template_id="internal-alert", text="ROLLBACK ALERT\nReason: 503s"))
    w.add(ev.ChecklistTicked(at=T0 + 330, checklist_id="post-rollback", item=0))
    if finish:
        w.add(ev.SessionFinished(at=T0 + 340, outcome="succeeded", duration=340.0))
    return path
