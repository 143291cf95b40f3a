"""The step detail: the selected step's title, state and whole command, with its output below.

It is the right-hand box of the run screen ("Step N"). It renders what the screen hands
it (the step, its state, the session state) and says when the command is cut; the log,
the host grid and the watch pane inside it are widgets of their own.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Static

from ....core.durations import format_seconds
from ....core.journal.fold import SessionState, StepState
from ....core.model import Step, StepKind
from ...format import LABEL, STATUS_STYLE
from ...widgets.host_grid import HostGrid
from .log_pane import LogPane
from .watch_pane import WatchPane


class StepDetail(Vertical):
    """The selected step: title line, command block (scrolls when long), host grid, log, watch."""

    def __init__(self, *, refresh_rate: float, low_bandwidth: bool, id: str | None = None) -> None:
        super().__init__(id=id)
        self._refresh_rate = refresh_rate
        self._low_bandwidth = low_bandwidth

    def compose(self) -> ComposeResult:
        yield Static(id="step-title")
        with VerticalScroll(id="step-command-box", can_focus=False):
            yield Static(id="step-command")
        yield Static(id="command-cut")
        yield HostGrid(id="hosts")
        rate, low = self._refresh_rate, self._low_bandwidth
        yield LogPane(refresh_rate=rate, low_bandwidth=low, id="log-pane")
        yield WatchPane(refresh_rate=rate, low_bandwidth=low, id="watch-box")

    @property
    def log_pane(self) -> LogPane:
        """The step's log, its search bar and the note under it."""
        return self.query_one("#log-pane", LogPane)

    @property
    def watch_pane(self) -> WatchPane:
        """The watch step's pane, under the log."""
        return self.query_one("#watch-box", WatchPane)

    def on_mount(self) -> None:
        self.border_title = "Step"

    def show(self, step: Step, st: StepState, state: SessionState, number: int) -> None:
        """Render ``step`` (numbered ``number``) as it stands in ``state``."""
        self.query_one("#step-title", Static).update(title_line(step, st))
        self.query_one("#step-command", Static).update(command_block(step, st, state))
        self._show_hosts(step, st)
        self.call_after_refresh(self.mark_cut)
        self.border_title = f"Step {number}"

    def _show_hosts(self, step: Step, st: StepState) -> None:
        """The per-host grid, on fleet steps only (failed hosts first)."""
        grid = self.query_one("#hosts", HostGrid)
        fleet = step.fleet is not None
        grid.set_class(fleet, "-fleet")
        if fleet:
            grid.show_hosts(st.hosts)

    def focus_hosts(self) -> None:
        """Move to a fleet step's host grid (its cursor picks the host shown in the log)."""
        grid = self.query_one("#hosts", HostGrid)
        if grid.has_class("-fleet"):
            grid.focus()

    def mark_cut(self) -> None:
        """Say so when the box cannot show the whole command at this size."""
        if not self.is_attached:
            return
        box = self.query_one("#step-command-box", VerticalScroll)
        cut = box.max_scroll_y > 0
        below = box.max_scroll_y - round(box.scroll_y)
        note = self.query_one("#command-cut", Static)
        note.set_class(cut, "-cut")
        if cut:
            where = f"▼ {below} more line{'s' if below != 1 else ''} below" if below else "▲ lines above"
            note.update(Content(f"{where} · v shows the whole command"))


def title_line(step: Step, st: StepState) -> Content:
    """The step's state, title, kind, duration and what ended it."""
    status = st.status
    parts: list[str | tuple[str, str]] = [
        (f"{LABEL[status]}", STATUS_STYLE[status]),
        ("  ", ""),
        (step.title, "bold"),
        (f"  {step.kind}", "$text-muted"),
    ]
    if st.duration is not None:
        parts.append((f"  {format_seconds(st.duration)}", "$text-muted"))
    if step.destructive:
        parts.append(("  destructive", "bold $error"))
    if st.message and status.is_final:
        parts.append(("\n" + st.message, STATUS_STYLE[status]))
    if st.skip_reason:
        parts.append((f"\nskipped: {st.skip_reason}", "$text-muted"))
    return Content.assemble(*parts)


def command_block(step: Step, st: StepState, state: SessionState) -> Content:
    """The command first and whole, then the description (shortened) and the last note."""
    # The command first and whole (every line, wrapped, never markup): what will run is what
    # is seen. The description after it, shortened, as it only explains.
    parts: list[str | tuple[str, str]] = []
    if step.kind in (StepKind.MANUAL, StepKind.CONFIRM):
        # Nothing is executed: show what the engineer is asked, not a "command".
        parts.append((planned(step, state), "italic"))
    else:
        command = st.command or planned(step, state)
        if command:
            parts.append(("$ ", "bold $accent"))
            parts.append(command)
    desc = " ".join(step.description.split())
    if desc:
        parts.append("\n" if parts else "")
        parts.append((desc[:200] + ("…" if len(desc) > 200 else ""), "$text-muted"))
    if st.notes:
        parts.append((f"\nnote: {st.notes[-1]}", "italic $text-muted"))
    return Content.assemble(*parts)


def planned(step: Step, state: SessionState) -> str:
    """What the step will do, with the parameters known so far filled in."""
    from ....core.params import PLACEHOLDER
    from ....core.steps.registry import describe

    text = describe(step)  # each kind says what its steps do (core/steps/<kind>.py)
    return PLACEHOLDER.sub(
        lambda m: state.params.get(m.group(1), "{{" + m.group(1) + "}}"), str(text)
    ).strip()
