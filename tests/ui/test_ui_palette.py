"""The command palette is built from the screen's keys: what the footer offers, the palette offers."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from helpers.ui import run_screen, until
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Static

from runbook_tui.core.loader import load_runbook
from runbook_tui.ui.app import AppOptions, RunbookApp
from runbook_tui.ui.screens.base import BaseScreen
from runbook_tui.ui.screens.text_prompt import TextPrompt

RUNBOOK = """\
runbook: 1
id: palette
title: Palette Rollback
procedures:
  - id: roll
    title: Roll back the API
    recovery_window: 5 minutes
    steps:
      - id: one
        title: Stop the new version
        kind: shell
        command: echo stopped
      - id: fleet
        title: Restart the API on every host
        kind: shell
        command: systemctl restart api
        targets: api
"""


def make_app(tmp_path: Path) -> RunbookApp:
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    path = work / "palette.yaml"
    path.write_text(RUNBOOK)
    return RunbookApp(
        AppOptions(
            runbook=load_runbook(path),
            procedure="roll",
            workdir=work,
            probe_signals=False,
            find_entries=lambda dirs: [],
        )
    )


class PingScreen(BaseScreen):
    """A screen with one key of its own, as a newcomer would add it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("z", "ping", "Ping", tooltip="Ping the on-call channel", id="ping.ping"),
        Binding("x", "ping", "Ping", show=False, id="ping.again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.pinged = 0

    def compose(self) -> ComposeResult:
        yield from self.compose_header()
        yield Static("ping")
        yield from self.compose_footer()

    def action_ping(self) -> None:
        self.pinged += 1


def titles(app: RunbookApp) -> list[str]:
    return [c.title for c in app.get_system_commands(app.screen)]


async def test_every_key_in_the_run_screens_footer_is_in_the_palette(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await run_screen(pilot)
        offered = titles(app)
        footer = [b for b in screen.active_bindings.values() if b.binding.show and b.node is screen]
        assert len(footer) >= 10
        for shown in footer:
            assert (shown.tooltip or shown.binding.description) in offered, shown.binding
        assert "Run again from the selected step" in offered  # off the footer, with a tooltip
        assert "Back" not in offered  # escape: a move, not a command
        assert "Quit" in offered  # the app's own, from Textual

        # A follower (read-only) is offered no intent in the palette, as in the footer.
        screen.read_only = True
        followed = titles(app)
        assert "Run the selected step" not in followed and "End the session (recorded)" not in followed
        assert "Search the log" in followed
        screen.read_only = False

        # Chosen in the palette, a command does what its key does.
        commands = app.get_system_commands(screen)
        note = next(c for c in commands if c.title == "Add a note to the selected step")
        assert "key n" in note.help
        app.call_later(note.callback)  # as the palette runs a chosen command
        await until(pilot, lambda: isinstance(app.screen, TextPrompt))


async def test_a_new_binding_appears_in_the_palette_without_a_second_list(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await run_screen(pilot)
        screen = PingScreen()
        await app.push_screen(screen)
        await pilot.pause()
        commands = [c for c in app.get_system_commands(screen) if c.title == "Ping the on-call channel"]
        assert len(commands) == 1, "two keys for one action: offered once"
        app.call_later(commands[0].callback)
        await until(pilot, lambda: screen.pinged == 1)
        await pilot.press("z")
        await until(pilot, lambda: screen.pinged == 2)


async def test_fleet_hosts_are_offered_only_on_a_fleet_step(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await run_screen(pilot)
        screen.step_list.select_step("one")
        await pilot.pause()
        assert "Fleet hosts" not in titles(app)  # a key that would do nothing is not offered
        screen.step_list.select_step("fleet")
        await pilot.pause()
        assert "Fleet hosts" in titles(app)
