"""The console's asker: gates, parameters and manual steps asked on the terminal.

``input()`` runs in a thread, so background steps keep streaming while the
engineer reads; ``--yes`` confirms every gate; without a terminal and without
``--yes`` a gate fails closed and a missing value says how to pass it.
"""

from __future__ import annotations

import asyncio
import getpass
import threading

from ..core.asker import ConfirmRequest, ManualAnswer
from ..core.model import Parameter, Step
from ..core.param_sources import secret_ways_in
from .printer import Printer

MAX_SHOWN_CHOICES = 20


async def ask_line(prompt: str, *, secret: bool = False) -> str | None:
    """Read one line from the terminal without blocking the event loop; None at end of input."""
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str | None] = loop.create_future()

    def deliver(value: str | None) -> None:
        if not answer.done():
            answer.set_result(value)

    def read() -> None:
        try:
            value: str | None = getpass.getpass(prompt) if secret else input(prompt)
        except (EOFError, OSError):
            value = None
        loop.call_soon_threadsafe(deliver, value)

    # A daemon thread: a prompt abandoned by Ctrl-C must not keep the process alive.
    threading.Thread(target=read, name="plain-input", daemon=True).start()
    return await answer


class PlainAsker:
    """Asks on the terminal; ``yes`` confirms every gate (recorded as ``--yes``)."""

    def __init__(self, printer: Printer, *, interactive: bool, yes: bool) -> None:
        self._printer = printer
        self._interactive = interactive
        self._yes = yes
        self.by = "--yes" if yes else "engineer"

    @property
    def interactive(self) -> bool:
        return self._interactive

    @property
    def yes(self) -> bool:
        return self._yes

    async def confirm(self, request: ConfirmRequest) -> bool:
        """Yes with ``--yes``; otherwise ask, or fail closed without a terminal."""
        if self._yes:
            return True
        say = self._printer.say
        if not self._interactive:
            say(f"gate on step {request.step.id}: {request.message}")
            say("  not confirmed: there is no terminal to ask; pass --yes to confirm every gate")
            return False
        if request.diff:
            say(request.diff.rstrip("\n"))
        answer = await ask_line(f"{request.message}\nGo ahead with {request.step.id}? [y/N] ")
        return (answer or "").strip().lower() in ("y", "yes")

    async def parameter(self, param: Parameter, choices: list[str]) -> str | None:
        """Ask for a value (a number picks a choice); without a terminal say how to pass it."""
        say = self._printer.say
        if not self._interactive:
            default = f" (using its default {param.default!r})" if param.default is not None else ""
            how = secret_ways_in(param.name) if param.secret else f"pass --param {param.name}=VALUE"
            say(f"parameter {param.name} has no value and there is no terminal to ask{default}; {how}")
            return None
        say(
            f"parameter {param.name}: {param.description}" if param.description else f"parameter {param.name}"
        )
        for number, choice in enumerate(choices[:MAX_SHOWN_CHOICES], start=1):
            say(f"  {number}. {choice}")
        offered = param.default if param.default is not None else param.suggestion
        default = f" [{offered}]" if offered is not None else ""
        answer = await ask_line(f"{param.name}{default}: ", secret=param.secret)
        text = (answer or "").strip()
        if text.isdigit() and 1 <= int(text) <= min(len(choices), MAX_SHOWN_CHOICES):
            return choices[int(text) - 1]
        # Enter takes the suggestion the engineer was shown; a run without a terminal never does.
        return text or param.suggestion or None

    async def manual(self, step: Step) -> ManualAnswer:
        """Ask whether the manual step is done, and for a note."""
        if self._yes:
            return ManualAnswer(True)  # StepFinished says "ticked by --yes"
        say = self._printer.say
        instructions = getattr(step.spec, "instructions", "") or step.description
        if not self._interactive:
            say(f"manual step {step.id}: {step.title}")
            say("  not ticked: there is no terminal to ask; pass --yes to tick manual steps")
            return ManualAnswer(False)
        say(f"manual step {step.id}: {step.title}")
        if instructions:
            say(instructions.rstrip("\n"))
        done = (await ask_line("Done? [y/N] ") or "").strip().lower() in ("y", "yes")
        note = (await ask_line("Note (optional): ") or "").strip()
        return ManualAnswer(done, note)
