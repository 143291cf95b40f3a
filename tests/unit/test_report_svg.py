"""The SVG timeline: well-formed, one bar per step attempt, the window and its breach marked."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from helpers.journals import T0, JournalWriter, rich_session, started

from runbook_tui.core import events as ev
from runbook_tui.core.report import svg
from runbook_tui.core.report.timeline import build_report

NS = {"s": "http://www.w3.org/2000/svg"}


def _parse(path: Path) -> ET.Element:
    return ET.fromstring(svg.render(build_report(path)))


def test_one_bar_per_attempt_and_breach_shaded(tmp_path: Path) -> None:
    path = rich_session(tmp_path)
    root = _parse(path)
    bars = root.findall(".//s:rect[@class='bar']", NS)
    assert [(b.get("data-step"), b.get("data-attempt"), b.get("data-status")) for b in bars] == [
        ("pre-health", "1", "passed"),
        ("restart", "1", "failed"),
        ("restart", "2", "failed"),
        ("pin-tag", "1", "passed"),
        ("verify", "1", "passed"),
    ]
    target = root.find(".//s:line[@class='target']", NS)
    breach = root.find(".//s:rect[@class='breach']", NS)
    assert target is not None and breach is not None
    assert float(breach.get("x", "0")) == float(target.get("x1", "-1"))
    # The verification check ran after the window closed: its bar lies in the shaded part.
    assert float(bars[-1].get("x", "0")) > float(target.get("x1", "0"))
    assert all(float(b.get("width", "0")) >= 2 for b in bars)
    assert root.findall(".//s:script", NS) == [] and "href" not in svg.render(build_report(path))


def test_within_window_has_no_breach_and_escapes_text(tmp_path: Path) -> None:
    sid = "20261118T100000Z-x-0001"
    w = JournalWriter(tmp_path / f"{sid}.jsonl", sid)
    w.add(started(sid, procedure_title='Roll <back> & "retry"'))
    w.add(
        ev.StepStarted(
            at=T0 + 1, step_id="a&b", title="<script>alert(1)</script>", step_kind="shell", phase="step"
        )
    )
    w.add(ev.StepFinished(at=T0 + 2, step_id="a&b", status="passed", duration=1.0))
    w.add(ev.StepStarted(at=T0 + 3, step_id="c", title="Never ends", step_kind="shell", phase="step"))
    w.add(ev.SessionFinished(at=T0 + 10, outcome="aborted", duration=10.0))
    root = _parse(w.path)
    assert root.find(".//s:rect[@class='breach']", NS) is None
    assert root.find(".//s:line[@class='target']", NS) is not None
    bars = root.findall(".//s:rect[@class='bar']", NS)
    assert [b.get("data-step") for b in bars] == ["a&b", "c"]
    assert bars[1].get("data-status") == "interrupted"
    texts = "".join(root.itertext())
    assert "<script>alert(1)</script>" in texts and 'Roll <back> & "retry"' in texts
    assert root.findall(".//s:script", NS) == []


def test_no_steps_still_renders(tmp_path: Path) -> None:
    sid = "20261118T100000Z-x-0002"
    w = JournalWriter(tmp_path / f"{sid}.jsonl", sid)
    w.add(started(sid, target_seconds=None))
    root = _parse(w.path)
    assert root.findall(".//s:rect[@class='bar']", NS) == []
    assert "No step was started." in "".join(root.itertext())
