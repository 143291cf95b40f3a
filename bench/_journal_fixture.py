"""A session journal with many output lines, written directly in the documented format.

Format (docs/architecture.md, core/events.py): a header line, then one compact JSON
event per line. The session: started, a parameter, a decision, a shell step printing
``lines`` lines (stdout, every 50th on stderr), a note, a milestone, the step finished,
a verification step, the session finished.
"""

from __future__ import annotations

import json
from pathlib import Path

from runbook_tui import __version__
from runbook_tui.core import events as ev
from runbook_tui.core.journal import fast_iso_utc, new_session_id

START = 1_790_000_000.0
RATE = 50_000.0  # output lines per second, for the timestamps


def _line(event: ev.Event) -> str:
    return json.dumps(ev.to_dict(event), separators=(",", ":"), ensure_ascii=False) + "\n"


def write_journal(folder: Path, lines: int, runbook_path: str = "") -> Path:
    """``<folder>/<session id>.jsonl`` with ``lines`` output lines; returns its path."""
    session_id = new_session_id("bench-report", START)
    path = folder / f"{session_id}.jsonl"
    end = START + 2 + lines / RATE
    with open(path, "w", encoding="utf-8") as out:
        header = {
            "schema": ev.SCHEMA_VERSION,
            "app": "runbook-tui",
            "version": __version__,
            "session_id": session_id,
        }
        out.write(json.dumps(header, separators=(",", ":")) + "\n")
        head: list[ev.Event] = [
            ev.SessionStarted(
                session_id=session_id,
                runbook_id="bench-report",
                runbook_title="Benchmark report",
                runbook_path=runbook_path,
                runbook_sha256="0" * 64,
                procedure_id="stream",
                procedure_title="Print many lines",
                mode="live",
                operator="bench@localhost",
                app_version=__version__,
                target_seconds=300.0,
                window_text="< 5 minutes",
                at=START,
            ),
            ev.ParameterSet(name="previous_tag", value="v1.2.3", source="command-line", at=START + 0.1),
            ev.DecisionMade(row_id="error-rate", issue="Error rate", procedure_id="stream", at=START + 0.2),
            ev.MilestoneReached(milestone="detected", at=START + 0.3),
            ev.StepStarted(
                step_id="seq",
                title="Print many lines",
                step_kind="shell",
                phase="step",
                command=f"seq {lines}",
                role="Operations",
                at=START + 1,
            ),
        ]
        out.writelines(_line(e) for e in head)
        batch: list[str] = []
        for i in range(1, lines + 1):
            stream = "stderr" if i % 50 == 0 else "stdout"
            at = fast_iso_utc(START + 1 + i / RATE)
            batch.append(
                f'{{"kind":"output","at":"{at}","step_id":"seq","seq":{i},"stream":"{stream}",'
                f'"text":"line {i} of the output, with some words in it"}}\n'
            )
            if len(batch) >= 10_000:
                out.writelines(batch)
                batch.clear()
        out.writelines(batch)
        tail: list[ev.Event] = [
            ev.NoteAdded(text="Error rate back under 1%", step_id="seq", author="bench", at=end - 0.5),
            ev.StepFinished(
                step_id="seq", status="passed", duration=end - 1 - START - 1, exit_code=0, at=end - 0.4
            ),
            ev.MilestoneReached(milestone="mitigated", step_id="seq", at=end - 0.3),
            ev.StepStarted(
                step_id="verify",
                title="Verify health",
                step_kind="http",
                phase="verification",
                command="GET http://localhost:5007/health",
                at=end - 0.2,
            ),
            ev.StepFinished(step_id="verify", status="passed", duration=0.1, at=end - 0.1),
            ev.SessionFinished(outcome="succeeded", duration=end - START, at=end),
        ]
        out.writelines(_line(e) for e in tail)
    return path
