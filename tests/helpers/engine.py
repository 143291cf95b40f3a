"""Helpers for engine tests: runbooks written as YAML, a scripted asker, and event capture."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from runbook_tui.core import events as ev
from runbook_tui.core.asker import ConfirmRequest, ManualAnswer
from runbook_tui.core.loader import load_runbook
from runbook_tui.core.model import Parameter, Runbook, Step


def write_runbook(folder: Path, text: str, name: str = "runbook.yaml") -> Path:
    """Write a YAML runbook into ``folder``; returns its path."""
    path = folder / name
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def runbook_from(folder: Path, text: str) -> Runbook:
    """Write and load a YAML runbook."""
    return load_runbook(write_runbook(folder, text))


@dataclass
class ScriptedAsker:
    """Answers from a script, and remembers every question."""

    confirm_answer: bool = True
    params: dict[str, str | None] = field(default_factory=dict)
    manual_answer: ManualAnswer = field(default_factory=lambda: ManualAnswer(True, ""))
    confirms: list[ConfirmRequest] = field(default_factory=list)
    asked: list[tuple[str, list[str]]] = field(default_factory=list)
    manuals: list[str] = field(default_factory=list)

    async def confirm(self, request: ConfirmRequest) -> bool:
        self.confirms.append(request)
        return self.confirm_answer

    async def parameter(self, param: Parameter, choices: list[str]) -> str | None:
        self.asked.append((param.name, list(choices)))
        return self.params.get(param.name)

    async def manual(self, step: Step) -> ManualAnswer:
        self.manuals.append(step.id)
        return self.manual_answer


class Recorder:
    """Collects events as a session emits them."""

    def __init__(self) -> None:
        self.events: list[ev.Event] = []

    def __call__(self, event: ev.Event) -> None:
        self.events.append(event)

    def kinds(self, step_id: str | None = None) -> list[str]:
        return [e.kind for e in self.events if step_id is None or getattr(e, "step_id", None) == step_id]

    def of(self, cls: type[ev.Event]) -> list[ev.Event]:
        return [e for e in self.events if isinstance(e, cls)]

    def output(self, step_id: str) -> list[ev.OutputLine]:
        return [e for e in self.events if isinstance(e, ev.OutputLine) and e.step_id == step_id]


class NoAsker:
    """Resume asks nothing; anything asked would be a bug here."""

    async def confirm(self, request: object) -> bool:
        raise AssertionError("resume asked for a confirmation")

    async def parameter(self, param: object, choices: list[str]) -> str | None:
        raise AssertionError("resume asked for a parameter")

    async def manual(self, step: object) -> object:
        raise AssertionError("resume asked about a manual step")
