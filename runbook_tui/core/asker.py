"""How the engine asks the human: the front end (plain runner, app) implements :class:`Asker`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from .model import Parameter, Step


@dataclass(frozen=True, slots=True)
class ConfirmRequest:
    """A gate before a step: what will happen, and for a file edit the diff (secrets redacted)."""

    step: Step
    message: str
    diff: str | None = None


@dataclass(frozen=True, slots=True)
class ManualAnswer:
    """The engineer's answer to a manual (checklist) step."""

    done: bool
    note: str = ""


class Asker(Protocol):
    """What the engine needs from whoever is at the keyboard.

    An asker may carry a ``by`` attribute (a string); the engine records it as who
    confirmed (``"engineer"`` when absent, ``"--yes"`` for :class:`YesAsker`).
    """

    async def confirm(self, request: ConfirmRequest) -> bool:
        """Whether to go ahead with ``request.step``."""
        ...

    async def parameter(self, param: Parameter, choices: list[str]) -> str | None:
        """A value for ``param`` (``None``: use its default, or fail if it has none)."""
        ...

    async def manual(self, step: Step) -> ManualAnswer:
        """Whether the manual ``step`` is done, with an optional note."""
        ...


class YesAsker:
    """``--yes``: every gate is confirmed (recorded as by ``--yes``); parameters take their default."""

    by = "--yes"

    async def confirm(self, request: ConfirmRequest) -> bool:
        """Always yes."""
        return True

    async def parameter(self, param: Parameter, choices: list[str]) -> str | None:
        """No one to ask: the default, or the first offered choice when there is no default."""
        if param.default is None and choices and not param.secret:
            return choices[0]
        return None

    async def manual(self, step: Step) -> ManualAnswer:
        """Ticked, and the journal says it was by ``--yes``."""
        return ManualAnswer(True)  # StepFinished says "ticked by --yes"


def asker_name(asker: object) -> str:
    """Who the engine records as having confirmed through ``asker``."""
    by = getattr(asker, "by", None)
    return by if isinstance(by, str) and by else "engineer"
