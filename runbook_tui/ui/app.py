"""The composition root: options in, screens pushed, app-wide keys and commands."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.notifications import SeverityLevel
from textual.screen import Screen

from ..core.errors import RunbookTuiError
from ..gc_tuning import tune_gc
from .screens.library import EntryLike, LibraryScreen, is_broken, summary_of
from .widgets.clock import Clock

if TYPE_CHECKING:  # the model is imported when a runbook is opened, not before the first frame
    from ..core.drills.definition import Fault
    from ..core.drills.limits import DrillLimits
    from ..core.model import DecisionRow, Procedure, Runbook
    from ..core.session_view import SessionControl


def _find_entries(dirs: Sequence[Path]) -> list[EntryLike]:
    from ..core.library import find_runbooks

    return list(find_runbooks(list(dirs)))


@dataclass(frozen=True)
class AppOptions:
    """Everything the app is started with; tests build it directly."""

    runbook_dirs: tuple[Path, ...] = ()
    runbook: Runbook | None = None  # open straight into this runbook
    procedure: str | None = None  # ... and this procedure
    drill: bool = False
    workdir: Path | None = None  # where commands run (a drill's sandbox)
    env: Mapping[str, str] | None = None  # extra environment for steps (a drill's stand-ins)
    drill_fault: Fault | None = None  # the drill's injected fault: the summary's score judges it
    drill_fault_random: bool = False  # the fault was picked at random: the summary reveals it
    drill_limits: DrillLimits | None = None  # a drill's caps on watches and http retries (drill.yaml)
    clock: Clock = time.time  # injectable so snapshots stay still
    probe_signals: bool = True  # live decision-matrix signals over HTTP
    find_entries: Callable[[Sequence[Path]], list[EntryLike]] = field(default=_find_entries)
    # (runbook, procedure, asker) -> Session; None builds a journaled live/drill session.
    session_factory: Callable[[Runbook, Procedure, Any], SessionControl] | None = None
    resume_session: Path | None = None  # a journal to continue on the run screen (``resume``)
    # Freeze start-up objects out of the GC: only for the one app of a process (the commands);
    # tests run many apps in one process, and frozen cycles of finished apps are never freed.
    freeze_gc: bool = False
    # Values given up front (--param, --param-file, RUNBOOK_TUI_PARAM_<name>) and where each came from.
    params: Mapping[str, str] = field(default_factory=dict)
    param_sources: Mapping[str, str] = field(default_factory=dict)
    # Over a slow link: the log pane repaints at most this often while output floods
    # (config ``refresh``, ``--refresh``); None: the pane's default.
    refresh_rate: float | None = None
    # ``--low-bandwidth`` (config ``low_bandwidth``): a lower budget, no animations, and a log
    # pane that shows only its newest line and a count while it follows a running step.
    low_bandwidth: bool = False
    # --impact-started (epoch seconds) and --role: the next session starts with them.
    impact_started_at: float | None = None
    roles: Mapping[str, str] = field(default_factory=dict)
    # ``runbook-tui follow``: a journal to watch read-only on the run screen, and whose it is.
    follow_session: Path | None = None
    following: str = ""


class RunbookApp(App[int]):
    """runbook-tui: library, triage, the run, and its summary."""

    # The library is the first screen: its styles are read with the app's, so pushing it
    # does not re-parse every stylesheet (~16 ms before the first frame).
    CSS_PATH: ClassVar[list[str | PurePath]] = ["app.tcss", "screens/library.tcss"]
    TITLE = "runbook-tui"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "quit", "Quit", priority=True, show=False, id="app.quit"),
        Binding("f1", "show_help_panel", "Keys", show=False, id="app.keys"),
    ]

    def __init__(self, options: AppOptions | None = None) -> None:
        super().__init__()
        tune_gc()  # the command did so before importing Textual; tests and embedders start here
        self.options = options or AppOptions()
        if self.options.freeze_gc:
            # The imports made ~500,000 objects that live as long as the process; frozen, a
            # full collection during start-up (~35 ms) does not walk them all again.
            gc.freeze()
        self.entries: list[EntryLike] = []
        self._offer_pending = False  # offer an unfinished session once the library is listed
        self.hung_up = False  # SIGHUP or SIGTERM arrived: the sessions are being left open
        self.left_open: list[str] = []  # sessions quit while open (resumable); said after exit

    @property
    def drill(self) -> bool:
        return self.options.drill

    @property
    def clock(self) -> Clock:
        return self.options.clock

    def session_factory(self, runbook: Runbook, procedure: Procedure, ask: Any) -> SessionControl:
        """A new engine session for ``procedure`` (journaled unless the options say otherwise)."""
        if self.options.session_factory is not None:
            return self.options.session_factory(runbook, procedure, ask)
        from .session_factory import new_session

        return new_session(
            runbook,
            procedure,
            workdir=self.workdir,
            drill=self.drill,
            ask=ask,
            env=self.options.env,
            limits=self.options.drill_limits,
            params=self.given_params(runbook),
            param_sources=self.options.param_sources,
            impact_started_at=self.impact_started_at,
            roles=self.options.roles,
        )

    @property
    def impact_started_at(self) -> float | None:
        """When impact started: --impact-started, or triage's answer (which wins)."""
        answered: float | None = getattr(self, "_impact_answer", None)
        return answered if answered is not None else self.options.impact_started_at

    def answer_impact(self, at: float | None) -> None:
        """Triage said when impact started; the next session records it."""
        self._impact_answer = at

    def given_params(self, runbook: Runbook) -> Mapping[str, str]:
        """Values given on the command line, for the runbook they were given for (no other)."""
        given_for = self.options.runbook
        return self.options.params if given_for is not None and runbook.id == given_for.id else {}

    @property
    def workdir(self) -> Path:
        return self.options.workdir or Path.cwd()

    @property
    def refresh_rate(self) -> float:
        """Log pane repaints a second while output floods (the budget)."""
        from .widgets.log_view import DEFAULT_REFRESH_RATE, LOW_BANDWIDTH_REFRESH_RATE

        if self.options.refresh_rate is not None:
            return self.options.refresh_rate
        return LOW_BANDWIDTH_REFRESH_RATE if self.options.low_bandwidth else DEFAULT_REFRESH_RATE

    def on_mount(self) -> None:
        if self.options.low_bandwidth:
            self.animation_level = "none"  # every animated frame is bytes on the link
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGHUP, signal.SIGTERM):
            loop.add_signal_handler(signum, self._on_hang_up, signum)
        listed = self._indexed_library()
        self.entries = listed or []
        self.push_screen(LibraryScreen(self.entries))
        if self.options.freeze_gc:
            # What start-up built lives as long as the app: out of the collector's way, a full
            # collection during a flood of output walks only what the flood made (BENCHMARKS.md).
            self.call_after_refresh(gc.freeze)
        if listed is None:
            self.load_library()
        if self.options.follow_session is not None and self.options.runbook is not None:
            self.follow_session(self.options.follow_session, self.options.runbook, self.options.procedure)
        elif self.options.resume_session is not None:
            self.resume_session(self.options.resume_session, self.options.runbook)
        elif self.options.runbook is not None:
            self.open_runbook(self.options.runbook, self.options.procedure)
        elif listed is not None:
            self.call_after_refresh(self.offer_resume)
        else:
            self._offer_pending = True  # once the list is on screen: start-up stays quick

    def _indexed_library(self) -> list[EntryLike] | None:
        """A warm library, listed from the index before the first frame; None: the worker reads it."""
        if self.options.find_entries is not _find_entries:  # entries given by the caller (tests)
            return None
        from ..core.library import indexed_runbooks

        try:
            found = indexed_runbooks(self.options.runbook_dirs)  # a few ms, or None at once
        except RunbookTuiError:
            return None  # the worker meets it too, and says it
        return None if found is None else list(found)

    # --- library --------------------------------------------------------

    def load_entries(self) -> list[EntryLike]:
        """Find the runbooks (bundled, configured); blocking, so call it from a thread."""
        return self.options.find_entries(self.options.runbook_dirs)

    @work(thread=True, exclusive=True, group="library", exit_on_error=False)
    def load_library(self) -> None:
        """Read the library off the event loop, handing it to the library screen as it arrives."""
        entries: list[EntryLike] = []
        try:
            if self.options.find_entries is not _find_entries:  # entries given by the caller (tests)
                entries = self.load_entries()
            else:
                from ..core.library import runbook_batches

                for batch in runbook_batches(self.options.runbook_dirs):  # first screenful first
                    entries = [*entries, *batch]
                    self.call_from_thread(self._library_loaded, entries)
        except RunbookTuiError as exc:  # a broken config file: said, and the app still starts
            self.call_from_thread(self._library_failed, exc)
        self.call_from_thread(self._library_loaded, entries)  # the end (a list that did not grow is kept)

    def _library_failed(self, exc: RunbookTuiError) -> None:
        self.notify(f"{exc}", title="Cannot read the library", severity="error", timeout=30)

    def _library_loaded(self, entries: list[EntryLike]) -> None:
        self.entries = entries
        if self._offer_pending:
            self._offer_pending = False
            self.call_after_refresh(self.offer_resume)
        for screen in self.screen_stack:
            if isinstance(screen, LibraryScreen):
                screen.set_entries(entries)

    # --- navigation -----------------------------------------------------

    def open_entry(self, entry: EntryLike) -> None:
        """Open a listed runbook (loading it now), or say why it cannot be opened."""
        runbook = None if is_broken(entry, summary_of(entry)) else entry.runbook
        if runbook is None:
            # A file that changed since it was listed reports its problems now.
            problems = getattr(entry, "load_problems", entry.problems)
            first = problems[0] if problems else "it did not load"
            self.notify(f"{entry.id} cannot be opened: {first}", severity="error", timeout=8)
            return
        self.open_runbook(runbook)

    def open_runbook(self, runbook: Runbook, procedure: str | None = None) -> None:
        """Show a runbook's triage screen (and go on into ``procedure`` if given)."""
        from .screens.runbook import RunbookScreen

        self.push_screen(RunbookScreen(runbook))
        if procedure is not None:
            proc = runbook.procedure(procedure)
            if proc is None:
                self.notify(f"{runbook.id} has no procedure {procedure!r}", severity="error")
            else:
                self.open_procedure(runbook, proc)

    def open_procedure(
        self, runbook: Runbook, procedure: Procedure, decision: DecisionRow | None = None
    ) -> None:
        """Start the run screen for ``procedure`` (nothing runs until asked)."""
        from .screens.procedure import ProcedureScreen

        self.push_screen(ProcedureScreen(runbook, procedure, decision=decision))

    # --- recorded sessions ----------------------------------------------

    def resume_session(self, journal: Path, runbook: Runbook | None = None) -> None:
        """Continue a recorded session on the run screen; a journal that cannot be resumed is said."""
        from .screens.resume import resume_into

        self.run_worker(resume_into(self, journal, runbook), group="resume", exit_on_error=False)

    def follow_session(self, journal: Path, runbook: Runbook, procedure_id: str | None) -> None:
        """Watch a session someone else runs: the run screen, read-only, fed from its journal."""
        from ..core.follow import FollowedSession
        from .screens.procedure import ProcedureScreen

        procedure = runbook.procedure(procedure_id or "")
        if procedure is None:
            self.notify(f"{runbook.id} has no procedure {procedure_id!r}", severity="error")
            return
        session = FollowedSession(journal, runbook)
        self.push_screen(ProcedureScreen(runbook, procedure, session=session, read_only=True))

    def offer_resume(self) -> None:
        """Offer to continue the latest unfinished session (never without asking)."""
        from .screens.resume import offer_latest

        self.run_worker(offer_latest(self), group="resume-offer", exit_on_error=False)

    # --- commands -------------------------------------------------------

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from self._binding_commands(screen)
        # Commands that are not keys: what the screen lists by name (a runbook's procedures).
        provider = getattr(screen, "palette_commands", None)
        if callable(provider):
            yield from provider()
        for entry in self.entries:  # from the listed summaries: a runbook loads when it is chosen
            if not is_broken(entry, summary_of(entry)):
                yield SystemCommand(
                    f"Open runbook: {entry.id}",
                    entry.title,
                    lambda e=entry: self.open_entry(e),
                    discover=False,
                )

    def _binding_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """The palette's commands are the screen's keys: a new binding is in the footer and here.

        Every key active on ``screen`` (its own and its focused widgets', as the footer
        sees them, so a follower is not offered intents) with a description; a hidden key
        only when it has a tooltip (arrows, escape and other moves stay out). The app's own
        keys are Textual's system commands already.
        """
        seen: set[tuple[int, str]] = set()
        for namespace, binding, enabled, tooltip in screen.active_bindings.values():
            if namespace is self or not enabled or not binding.description:
                continue
            if not binding.show and not tooltip:
                continue
            if (id(namespace), binding.action) in seen:
                continue  # two keys for one action (s and ctrl+s): offered once
            seen.add((id(namespace), binding.action))
            yield SystemCommand(
                tooltip or binding.description,
                f"{binding.description} · key {self.get_key_display(binding)}",
                partial(self.run_action, binding.action, namespace),
            )

    def _on_hang_up(self, signum: signal.Signals) -> None:
        if not self.hung_up:
            self.hung_up = True
            self.run_worker(self._hang_up(signum), group="hang-up")

    async def _hang_up(self, signum: signal.Signals) -> None:
        """The terminal went away (SSH drop) or we were told to stop: stop running steps
        and leave every open session to ``runbook-tui resume``."""
        from .screens.procedure import ProcedureScreen

        open_sessions = [
            s.control for s in self.screen_stack if isinstance(s, ProcedureScreen) and s.control is not None
        ]
        for session in open_sessions:
            if not session.state.finished:
                session.hang_up()
                if session.session_id not in self.left_open:  # quitting may have noted it already
                    self.left_open.append(session.session_id)
        await asyncio.gather(*(session.wait_idle() for session in open_sessions))
        # Every journal is closed and fsynced, so leaving at once loses nothing. After a
        # hang-up there is no terminal to restore, and Textual's writer blocks on it for
        # ever; after SIGTERM the terminal may be gone too, so restoring it gets 3 s.
        if signum is signal.SIGHUP:
            os._exit(130)
        watchdog = threading.Timer(3.0, os._exit, (130,))
        watchdog.daemon = True
        watchdog.start()
        self.exit(130)  # as the headless runner: stopped before the end, the session left open

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every notification is plain text: messages carry step titles, values, error lines
        and command output, none of which may be read as markup (``[@click=app.quit]X[/]``)."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)

    async def action_quit(self) -> None:
        """Quit, but ask first if a step is running (and record what happened)."""
        from .screens.procedure import ProcedureScreen

        for screen in reversed(self.screen_stack):
            if isinstance(screen, ProcedureScreen) and screen.has_running_work:
                await screen.confirm_quit()
                return
        self.exit(0)
