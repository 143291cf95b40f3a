"""Pilot tests of the screens that need only the model: library, triage, reference, dialogs, widgets."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.httpserver import LoopbackServer, Reply
from helpers.ui import notices
from helpers.ui_fixtures import entries_in, fixed_clock, write_run_runbook
from textual.app import App, ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Input, Static, TabbedContent

from runbook_tui.core.durations import parse_window
from runbook_tui.core.model import Parameter
from runbook_tui.ui.app import AppOptions, RunbookApp
from runbook_tui.ui.screens.confirm import ConfirmModal
from runbook_tui.ui.screens.library import LibraryScreen
from runbook_tui.ui.screens.parameter import ParameterModal
from runbook_tui.ui.screens.reference import ReferenceScreen
from runbook_tui.ui.screens.runbook import RunbookScreen
from runbook_tui.ui.screens.text_prompt import TextPrompt
from runbook_tui.ui.widgets.clock import Countdown, RecoveryClock
from runbook_tui.ui.widgets.log_view import LogView

BROKEN = "runbook: 1\nid: broken\ntitle: Broken\nprocedures:\n  - id: p\n    title: P\n    stesp: []\n"


@pytest.fixture
def library_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "runbooks"
    write_run_runbook(folder, "http://127.0.0.1:9/health", "http://127.0.0.1:9/ok")
    (folder / "broken.yaml").write_text(BROKEN)
    return folder


def make_app(folder: Path, **kw: object) -> RunbookApp:
    options = AppOptions(
        find_entries=lambda dirs: list(entries_in(folder)),
        clock=fixed_clock,
        probe_signals=False,
        workdir=folder,
    )
    for key, value in kw.items():
        object.__setattr__(options, key, value)
    return RunbookApp(options)


async def test_library_filters_as_you_type_and_shows_broken_runbooks(library_dir: Path) -> None:
    app = make_app(library_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LibraryScreen)
        assert [e.id for e in screen.shown] == ["broken", "ui-drill"]
        await pilot.press(*"zzz")
        assert screen.shown == []
        await pilot.press("enter")
        assert "No runbook matches the filter." in notices(app)
        await pilot.press("escape", *"broken", "enter")
        assert [e.id for e in screen.shown] == ["broken"]
        assert isinstance(app.screen, LibraryScreen), "a broken runbook must not open"
        assert any("broken.yaml:5:5" in n and "steps" in n for n in notices(app)), notices(app)
        await pilot.press("escape", *"slow proc")  # a procedure title matches too
        assert [e.id for e in screen.shown] == ["ui-drill"]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RunbookScreen)
        assert app.screen.runbook.id == "ui-drill"


async def test_triage_pick_a_row_and_the_app_proposes_its_procedure(library_dir: Path) -> None:
    app = make_app(library_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press(*"ui-drill", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, RunbookScreen)
        table = screen.query_one("#matrix", DataTable)
        assert table.row_count == 2
        await pilot.press("down", "enter")
        assert screen.decision is not None and screen.decision.id == "health-503"
        proposal = str(screen.query_one("#proposal", Static).render())
        assert "App rollback" in proposal and "10 min" in proposal
        assert any("Proposed: App rollback" in n for n in notices(app))
        await pilot.press("up", "enter")  # a row with no procedure proposes none
        assert screen.decision is not None and screen.decision.id == "slow"
        await pilot.press("o")
        assert isinstance(app.screen, RunbookScreen), "no procedure to open for that row"


async def test_live_signal_highlights_the_matching_row(tmp_path: Path) -> None:
    with LoopbackServer() as server:
        server.route("/health", Reply(503))
        folder = tmp_path / "rb"
        write_run_runbook(folder, server.url("/health"), server.url("/ok"))
        app = make_app(folder, probe_signals=True)
        async with app.run_test(size=(80, 24)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.press("enter")
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, RunbookScreen)
            await screen.workers.wait_for_complete()
            await pilot.pause()
            assert screen.matched == ["health-503"]
            assert screen.signals["health-503"].status == 503
            assert screen.query_one("#matrix", DataTable).cursor_row == 1
            assert any("returned 503" in n for n in notices(app))
            assert [r.path for r in server.requests] == ["/health"]
            server.route("/health", Reply(200))
            await pilot.press("p")
            await screen.workers.wait_for_complete()
            assert screen.matched == []


async def test_reference_sections_are_one_key_away(library_dir: Path) -> None:
    app = make_app(library_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.press(*"ui-drill", "enter")
        await pilot.pause()
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ReferenceScreen)
        tabs = app.screen.query_one("#reference-tabs", TabbedContent)
        assert tabs.active == "ref-escalation"
        await pilot.press("7")
        assert tabs.active == "ref-text"
        await pilot.press("escape")
        assert isinstance(app.screen, RunbookScreen)


async def test_terminal_too_small_shows_a_message_instead(library_dir: Path) -> None:
    app = make_app(library_dir)
    async with app.run_test(size=(70, 20)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LibraryScreen) and screen.has_class("-too-small")
        assert "needs at least 80x24" in str(screen.query_one("#too-small", Static).render())
        assert screen.query_one("#too-small").display and not screen.query_one("#library-body").display
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert not screen.has_class("-too-small") and screen.query_one("#library-body").display


class _Host(App[None]):
    """A bare app to host one widget or dialog."""

    def __init__(self, widget: object = None) -> None:
        super().__init__()
        self.widget = widget
        self.seen: list[Message] = []

    def compose(self) -> ComposeResult:
        if self.widget is not None:
            yield self.widget  # type: ignore[misc]


async def test_parameter_form_shows_the_rule_that_failed() -> None:
    param = Parameter("tag", "The image tag", pattern=r"^v[0-9]+\.[0-9]+\.[0-9]+$", example="v1.2.3")
    host = _Host()
    results: list[str | None] = []
    async with host.run_test(size=(80, 24)) as pilot:
        host.push_screen(ParameterModal(param, ["v1.2.2", "v1.2.1"]), results.append)
        await pilot.pause()
        await pilot.press(*"latest", "enter")
        error = str(host.screen.query_one("#modal-error", Static).render())
        assert "does not match" in error and "v1.2.3" in error
        assert results == []
        host.screen.query_one(Input).value = ""
        await pilot.press("down", "down", "enter")  # pick the second offered choice
        await pilot.pause()
        assert results == ["v1.2.1"]


async def test_destructive_confirmation_needs_the_step_id_typed() -> None:
    host = _Host()
    results: list[bool | None] = []
    async with host.run_test(size=(80, 24)) as pilot:
        modal = ConfirmModal(step_id="wipe", title="Wipe", message="Deletes the cache", destructive=True)
        host.push_screen(modal, results.append)
        await pilot.pause()
        await pilot.press("enter")
        await pilot.press(*"yes", "enter")
        assert results == []
        assert "not 'wipe'" in str(modal.query_one("#modal-error", Static).render())
        modal.query_one(Input).value = ""
        await pilot.press(*"wipe", "enter")
        assert results == [True]


async def test_confirmation_with_diff_declines_on_escape() -> None:
    host = _Host()
    results: list[bool | None] = []
    diff = '--- a/Cargo.toml\n+++ b/Cargo.toml\n@@ -1 +1 @@\n-default = ["risky"]\n+default = []\n'
    async with host.run_test(size=(80, 24)) as pilot:
        host.push_screen(ConfirmModal(step_id="f", title="F", message="Edit", diff=diff), results.append)
        await pilot.pause()
        assert host.screen.query("#confirm-diff-body")
        await pilot.press("enter")  # Enter alone never confirms
        assert results == []
        await pilot.press("escape")
        assert results == [False]


async def test_skip_reason_cannot_be_empty() -> None:
    host = _Host()
    results: list[str | None] = []
    async with host.run_test(size=(80, 24)) as pilot:
        host.push_screen(TextPrompt("Skip", "Why?"), results.append)
        await pilot.pause()
        await pilot.press("space", "enter")
        assert results == []
        assert "required" in str(host.screen.query_one("#modal-error", Static).render())
        await pilot.press(*"done by hand", "enter")
        assert results == ["done by hand"]


async def test_clock_warns_at_80_percent_and_breaches_after_the_window() -> None:
    now = [1000.0]
    clock = RecoveryClock(lambda: now[0])
    host = _Host(clock)
    async with host.run_test(size=(80, 24), message_hook=host.seen.append) as pilot:
        window = parse_window("< 100 seconds")
        clock.session_started = 990.0
        clock.procedure = Countdown("procedure", "window", 1000.0, window.target_seconds)
        now[0] = 1050.0
        clock.tick()
        await pilot.pause()
        assert not clock.has_class("-warning") and "00:50" in str(clock.render())
        now[0] = 1081.0
        clock.tick()
        await pilot.pause()
        assert clock.has_class("-warning")
        assert not [m for m in host.seen if isinstance(m, RecoveryClock.Crossed)], "only the engine announces"
        clock.crossed("procedure", "warning", 81.0, 100.0)  # the engine's window_warning, via the screen
        now[0] = 1101.0
        clock.tick()
        clock.crossed("procedure", "breach", 101.0, 100.0)
        clock.crossed("procedure", "breach", 101.0, 100.0)
        await pilot.pause()
        assert clock.has_class("-breach") and "over by" in str(clock.render())
        crossed = list({id(m): m for m in host.seen if isinstance(m, RecoveryClock.Crossed)}.values())
        assert [(m.scope, m.level) for m in crossed] == [("procedure", "warning"), ("procedure", "breach")]
        clock.deadlines = (Countdown("row", "decide", 1000.0, 600.0),)
        assert "08:19 left" in str(clock.render())


async def test_log_view_is_bounded_searchable_and_follows_until_scrolled() -> None:
    log = LogView(max_lines=1000)
    host = _Host(log)
    async with host.run_test(size=(80, 24)) as pilot:
        log.write_lines(f"\x1b[32mline {i}\x1b[0m" for i in range(5000))
        await pilot.pause()
        assert log.line_count <= 1000 and log.dropped >= 4000
        assert log.lines[-1] == "line 4999"
        assert log.scroll_y == log.max_scroll_y, "follows the tail"
        assert log.search("line 4990") == 1
        found = log.next_match()
        assert found == 4990 and not log.follow
        assert log.search("no such thing") == 0 and log.next_match() is None
        log.follow = True
        log.write_lines(["tail line"])
        await pilot.pause()
        assert log.scroll_y == log.max_scroll_y


def test_every_binding_has_an_id_so_it_can_be_remapped() -> None:
    from textual.binding import Binding

    from runbook_tui.ui.screens.manual import ManualModal
    from runbook_tui.ui.screens.procedure import ProcedureScreen
    from runbook_tui.ui.screens.quit import QuitModal
    from runbook_tui.ui.screens.summary import SummaryScreen

    classes = [
        RunbookApp,
        LibraryScreen,
        RunbookScreen,
        ReferenceScreen,
        ProcedureScreen,
        SummaryScreen,
        ConfirmModal,
        ParameterModal,
        TextPrompt,
        ManualModal,
        QuitModal,
        LogView,
    ]
    ids = []
    for cls in classes:
        for binding in cls.__dict__.get("BINDINGS", []):
            assert isinstance(binding, Binding) and binding.id, f"{cls.__name__}: {binding}"
            ids.append(binding.id)
    assert len(ids) == len(set(ids)), "binding ids are unique"


async def test_command_palette_offers_the_screen_commands(library_dir: Path) -> None:
    app = make_app(library_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await app.workers.wait_for_complete()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Open runbook: ui-drill" in titles and "Open runbook: broken" not in titles
        await pilot.press(*"ui-drill", "enter")
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Run procedure 2: Slow procedure" in titles and "Reference sections" in titles
        app.set_keymap({"runbook.reference": "x"})
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ReferenceScreen), "a remapped key works"


def test_open_command_names_the_procedures_when_one_is_unknown(library_dir: Path) -> None:
    import argparse

    from runbook_tui.commands import app as command
    from runbook_tui.core.errors import UsageError

    args = argparse.Namespace(
        runbooks=[str(library_dir)], runbook="ui-drill", procedure="nope", drill=False, workdir=None
    )
    with pytest.raises(UsageError, match="has no procedure 'nope'; it has: app, slow, watching, flood"):
        command.run(args)
