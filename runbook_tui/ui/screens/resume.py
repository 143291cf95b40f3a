"""Continuing a recorded session: the start-up offer, the resume itself, and interrupted steps.

Nothing runs by itself: the offer only opens the run screen when the engineer says
so, and an interrupted step waits until the engineer re-runs it or marks it done.
The journal is read off the event loop; a journal that cannot be resumed is said
in a notification, never raised.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, ClassVar, cast

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

if TYPE_CHECKING:
    # Types only: the start-up offer imports this module, and the model costs ~40 ms to build.
    from ...core.journal.fold import StepState
    from ...core.model import Runbook
    from ...core.sessions import SessionSummary
    from ..app import RunbookApp

TAIL_SHOWN = 4  # last lines of an interrupted step shown in its modal
_CSS: list[str | PurePath] = ["modals.tcss", "resume.tcss"]  # the shared modal box, then ours


def ago(seconds: float) -> str:
    """``3m ago``, ``2h05m ago``, ``4 days ago``: how long since a session started."""
    whole = max(0, int(seconds))
    if whole < 60:
        return f"{whole}s ago"
    if whole < 3600:
        return f"{whole // 60}m ago"
    if whole < 48 * 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m ago"
    return f"{whole // 86400} days ago"


def _keys(*pairs: tuple[str, str]) -> Content:
    """``r resume it   n not now``: each key in the accent colour, then what it does."""
    parts: list[str | tuple[str, str]] = []
    for key, what in pairs:
        parts += [(key, "bold $accent"), f" {what}   "]
    parts[-1] = str(parts[-1]).rstrip()
    return Content.assemble(*parts)


class ResumeOfferModal(ModalScreen[bool]):
    """The latest unfinished session: ``r`` (or enter) resumes it, ``n`` (or escape) is "not now"."""

    CSS_PATH = _CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r,enter", "choose(True)", "Resume", id="resume.offer.resume"),
        Binding("n,escape", "choose(False)", "Not now", id="resume.offer.not_now"),
    ]

    def __init__(self, summary: SessionSummary, *, now: float, others: int = 0) -> None:
        super().__init__()
        self.summary = summary
        self.now = now
        self.others = others

    def compose(self) -> ComposeResult:
        s = self.summary
        started = datetime.fromtimestamp(s.started).astimezone().strftime("%Y-%m-%d %H:%M %Z")
        rows: list[str | tuple[str, str]] = [
            ("Runbook    ", "$text-muted"),
            (s.runbook_title or s.runbook or "?", "bold"),
            "\n",
            ("Procedure  ", "$text-muted"),
            (s.procedure_title or s.procedure or "?", "bold"),
            "\n",
            ("Started    ", "$text-muted"),
            f"{ago(self.now - s.started)}  ({started})",
            "\n",
            ("Mode       ", "$text-muted"),
            (s.mode or "?", "bold $warning" if s.mode == "drill" else "bold"),
            (f"  by {s.operator}" if s.operator else "", "$text-muted"),
        ]
        if s.torn:
            rows.append(("\nIts last line was cut off by the crash; it is set aside.", "$warning"))
        if self.others:
            more = f"{self.others} older unfinished session{'s' if self.others > 1 else ''}"
            rows.append((f"\n{more}: runbook-tui sessions lists them.", "$text-muted"))
        with Vertical(id="modal-box"):
            yield Static(Content("A session was left unfinished").stylize("bold"), id="modal-title")
            yield Static(Content.assemble(*rows), id="resume-facts")
            hint = _keys(("r", "resume it (nothing runs until you ask)"), ("n", "not now"))
            yield Static(hint, id="prompt-hint")

    def on_mount(self) -> None:
        self.query_one("#modal-box").border_title = "resume"

    def action_choose(self, resume: bool) -> None:
        self.dismiss(resume)


class InterruptedModal(ModalScreen[tuple[str, str] | None]):
    """A step the crash interrupted: ``r`` re-runs it, ``d`` marks it done (a note is required)."""

    CSS_PATH = _CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "rerun", "Re-run", id="resume.interrupted.rerun"),
        Binding("d", "mark_done", "Mark done", id="resume.interrupted.done"),
        Binding("escape", "later", "Decide later", id="resume.interrupted.later"),
    ]

    def __init__(self, title: str, state: StepState, command: str = "") -> None:
        super().__init__()
        self.step_title = title
        self.state = state
        self.command = command

    def compose(self) -> ComposeResult:
        st = self.state
        lines = [t.text for t in st.tail[-TAIL_SHOWN:]]
        printed = f"It printed {st.output_lines} line{'s' if st.output_lines != 1 else ''}"
        printed += ", the last ones:" if lines else "."
        with Vertical(id="modal-box"):
            yield Static(
                Content.assemble(("Interrupted: ", "bold $warning"), (self.step_title, "bold")),
                id="modal-title",
            )
            yield Static(
                "The session ended while this step ran, so whether it finished is not known.",
                id="interrupted-what",
                markup=False,
            )
            if self.command.strip():
                # One line: a many-line script shows its first line (the step screen has it all).
                script = self.command.strip().splitlines()
                shown = script[0] + (" …" if len(script) > 1 else "")
                yield Static(Content.assemble(("$ ", "bold $accent"), shown), id="interrupted-command")
            yield Static(printed, id="interrupted-printed", markup=False)
            if lines:
                yield Static("\n".join(lines), id="interrupted-tail", markup=False)
            # The note field is mounted by d: present from the start, it would take r and d as letters.
            yield Static("", id="modal-error")
            yield Static(
                _keys(("r", "re-run it"), ("d", "mark it done, with a note"), ("escape", "later")),
                id="prompt-hint",
            )

    def on_mount(self) -> None:
        self.query_one("#modal-box").border_title = "interrupted step"

    @property
    def _writing_note(self) -> bool:
        return bool(self.query("#interrupted-note"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While the note is typed, r and d are letters of the note.
        return not (self._writing_note and action in ("rerun", "mark_done"))

    def action_rerun(self) -> None:
        self.dismiss(("rerun", ""))

    async def action_mark_done(self) -> None:
        note = Input(placeholder="how do you know it is done? (recorded)", id="interrupted-note")
        await self.query_one("#modal-box").mount(note, before="#modal-error")
        note.focus()
        self.query_one("#prompt-hint", Static).update(
            Content.assemble(("enter", "bold $accent"), " mark done   ", ("escape", "bold $accent"), " back")
        )
        self.refresh_bindings()

    @on(Input.Submitted, "#interrupted-note")
    def _note_given(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            self.query_one("#modal-error", Static).update(
                "A note is required: say how you know the step is done."
            )
            return
        self.dismiss(("done", text))

    def action_later(self) -> None:
        if self._writing_note:
            self.query_one("#interrupted-note").remove()
            self.query_one("#modal-error", Static).update("")
            self.query_one("#prompt-hint", Static).update(
                Content.assemble(
                    ("r", "bold $accent"),
                    " re-run it   ",
                    ("d", "bold $accent"),
                    " mark it done, with a note   ",
                    ("escape", "bold $accent"),
                    " later",
                )
            )
            self.refresh_bindings()
            return
        self.dismiss(None)


class DamagedLinesModal(ModalScreen[bool]):
    """Damaged lines before the journal's end: ``a`` resumes past them (recorded), ``escape`` does not."""

    CSS_PATH = _CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "choose(True)", "Accept and resume", id="resume.damaged.accept"),
        Binding("n,escape", "choose(False)", "Do not resume", id="resume.damaged.refuse"),
    ]

    def __init__(self, journal: Path, damaged: Sequence[Any]) -> None:
        super().__init__()
        self.journal = journal
        self.damaged = tuple(damaged)

    def compose(self) -> ComposeResult:
        rows: list[str | tuple[str, str]] = []
        for line in self.damaged:
            rows += [("Line ", "$text-muted"), (str(line.number), "bold")]
            if line.step_id:
                rows += [("  of step ", "$text-muted"), (line.step_id, "bold")]
            rows.append("\n")
        with Vertical(id="modal-box"):
            yield Static(
                Content.assemble(("Damaged journal: ", "bold $error"), (self.journal.name, "bold")),
                id="modal-title",
            )
            yield Static(Content.assemble(*rows[:-1]), id="damaged-lines")
            yield Static(
                "These lines cannot be read. What they recorded is lost: resuming past them could "
                "run their step again. Accepting is recorded in the journal, and each such step "
                "that is not recorded as done is asked about (re-run or mark done), never re-run by itself.",
                id="damaged-what",
                markup=False,
            )
            yield Static(_keys(("a", "accept and resume"), ("escape", "do not resume")), id="prompt-hint")

    def on_mount(self) -> None:
        self.query_one("#modal-box").border_title = "damaged journal"

    def action_choose(self, accept: bool) -> None:
        self.dismiss(accept)


# --- the flow ---------------------------------------------------------------------


async def ask(app: RunbookApp, screen: ModalScreen[Any]) -> Any:
    """Push a modal and wait for its answer (from any task of the app's loop)."""
    answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def done(result: Any) -> None:
        if not answer.done():
            answer.set_result(result)

    app.push_screen(screen, done)
    return await answer


async def offer_latest(app: RunbookApp) -> None:
    """At start-up: offer the latest unfinished session; "not now" leaves it untouched."""
    from ...core.sessions import list_sessions

    try:
        found = await asyncio.to_thread(list_sessions)
    except Exception as exc:  # the sessions folder cannot be read: say so, start anyway
        app.notify(str(exc), title="Recorded sessions", severity="warning", timeout=10)
        return
    unfinished = [s for s in found if not s.is_finished]
    if not unfinished:
        return
    latest = unfinished[0]
    offer = ResumeOfferModal(latest, now=app.clock(), others=len(unfinished) - 1)
    if await ask(app, offer):
        await resume_into(app, latest.path, None)


async def resume_into(app: RunbookApp, journal: Path, runbook: Runbook | None) -> None:
    """Rebuild the session from ``journal`` (off the loop) and open the run screen on it."""
    from ...core.journal import DamagedJournal
    from ..asker import UiAsker
    from ..session_factory import first_step_at, resume_session
    from .procedure import ProcedureScreen
    from .runbook import RunbookScreen

    accept = False
    try:
        if runbook is None:
            runbook = await asyncio.to_thread(_runbook_of, journal, app.options.runbook_dirs)
        while True:
            try:
                session = await asyncio.to_thread(
                    resume_session,
                    journal,
                    runbook,
                    ask=UiAsker(cast("App[object]", app)),
                    env=app.options.env,
                    params=app.given_params(runbook),
                    param_sources=app.options.param_sources,
                    accept_damaged=accept,
                )
                break
            except DamagedJournal as damaged:
                # An explicit choice, never a silent skip: the engineer accepts or nothing happens.
                if accept or not await ask(app, DamagedLinesModal(journal, damaged.damaged)):
                    raise
                accept = True
        first = await asyncio.to_thread(first_step_at, journal)
    except Exception as exc:  # every refusal is a message (finished, runbook gone, unreadable)
        app.notify(
            f"{journal.name} cannot be resumed: {exc}",
            title="Resume",
            severity="error",
            timeout=30,
            markup=False,
        )
        return
    app.push_screen(RunbookScreen(runbook))
    app.push_screen(ProcedureScreen(runbook, session.procedure, session=session, first_step_at=first))


def _runbook_of(journal: Path, dirs: Sequence[Path]) -> Runbook:
    """The runbook a recorded session followed: its recorded path, else its id in the library."""
    from ...commands.sessions import resolve_runbook
    from ...core.sessions import summarise

    return resolve_runbook(summarise(journal), [str(d) for d in dirs])
