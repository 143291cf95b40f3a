"""Over a slow link: the log pane's refresh budget, the low-bandwidth view, whole commands
before they run (80x24 and 120x40, live and drill), confirmations read to the end, and
text from runbooks, values and output shown as written (never markup, never controls)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers.paths import REPO_ROOT
from helpers.ui import run_screen, until
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Static

from runbook_tui.config import ConfigError, load_config
from runbook_tui.core.engine import Session
from runbook_tui.core.events import StepStatus
from runbook_tui.core.loader import load_runbook
from runbook_tui.ui.app import AppOptions, RunbookApp
from runbook_tui.ui.screens.command import CommandModal
from runbook_tui.ui.screens.confirm import ConfirmModal
from runbook_tui.ui.screens.parameter import ParameterModal
from runbook_tui.ui.screens.preflight import PreflightModal
from runbook_tui.ui.screens.procedure import ProcedureScreen
from runbook_tui.ui.widgets.log_view import LogView
from runbook_tui.ui.widgets.step_list import StepList

SEED = REPO_ROOT / "runbooks" / "strict-connection-flow.yaml"
CLICK = "[@click=app.quit]X[/]"
PATTERN = "^[A-Za-z0-9_]{8,64}$"
SIX_LINES = [  # each fits the detail's width at 80x24 (about 44 columns)
    "docker compose pull api worker",
    "docker compose stop api worker",
    "docker compose rm -f api worker",
    "docker tag api:previous api:current",
    "docker compose up -d api worker",
    "curl -fsS http://127.0.0.1:8080/health",
]


class Pane(App[None]):
    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.options = options

    def compose(self) -> ComposeResult:
        yield LogView(id="log", **self.options)


def shown(log: LogView) -> list[str]:
    return [log.render_line(y).text.rstrip() for y in range(log.size.height)]


# --- the refresh budget ----------------------------------------------------------------


async def test_a_flood_is_repainted_on_the_budget_and_its_last_lines_show_when_it_stops() -> None:
    app = Pane(refresh_rate=10)
    async with app.run_test(size=(40, 10)) as pilot:
        log = app.query_one(LogView)
        log.write_lines(["first"])
        painted = log.paints
        for batch in range(50):  # 50 batches at once: one repaint is owed, not 50
            log.write_lines([f"line {batch}-{i}" for i in range(20)])
        assert log.paints == painted
        assert log.line_count == 1001, "every line is kept, repainted or not"
        log.flush()  # the stream went quiet
        await pilot.pause()
        assert log.paints == painted + 1
        assert shown(log)[-1] == "line 49-19"


async def test_the_screen_flushes_the_pane_when_a_step_stops_printing(tmp_path: Path) -> None:
    runbook = write_runbook(tmp_path, "for i in $(seq 1 3000); do echo row $i; done; echo the-very-last-line")
    app = RunbookApp(AppOptions(runbook=load_runbook(runbook), procedure="main", workdir=tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await run_screen(pilot)
        await pilot.press("r")
        await until(pilot, lambda: screen.state.step("cmd").status is StepStatus.PASSED)
        log = screen.query_one("#log", LogView)
        await until(pilot, lambda: "the-very-last-line" in shown(log))
        assert log.line_count == 3001


async def test_a_following_pane_made_shorter_still_shows_its_last_line() -> None:
    # When a step ends its detail grows and the log pane above the note gets shorter.
    app = Pane()
    async with app.run_test(size=(40, 12)) as pilot:
        log = app.query_one(LogView)
        log.write_lines([f"row {i}" for i in range(300)])
        log.flush()
        await pilot.pause()
        assert shown(log)[-1] == "row 299"
        await pilot.resize_terminal(40, 9)
        await pilot.pause()
        assert log.size.height == 9 and shown(log)[-1] == "row 299"


async def test_low_bandwidth_shows_the_newest_line_and_a_count_until_the_engineer_pauses() -> None:
    app = Pane(low_bandwidth=True)
    async with app.run_test(size=(50, 10)) as pilot:
        log = app.query_one(LogView)
        log.set_streaming(True)
        log.write_lines([f"line {i}" for i in range(300)])
        log.flush()
        await pilot.pause()
        rows = shown(log)
        assert rows[0] == "line 299"
        assert rows[1].startswith("… 299 lines before it")
        assert all(not row for row in rows[2:])
        log.focus()
        await pilot.press("up")  # scrolling back: the whole pane, near the tail
        rows = shown(log)
        assert not log.follow and "line 298" in rows and rows[1] != rows[0]
        log.follow = True
        log.set_streaming(False)  # the step ended: the whole pane at the tail
        await pilot.pause()
        assert shown(log)[-1] == "line 299"


async def test_the_pane_shows_colours_from_sgr_and_drops_every_other_control_sequence() -> None:
    app = Pane()
    async with app.run_test(size=(60, 8)) as pilot:
        log = app.query_one(LogView)
        log.write_lines(
            [
                "\x1b[31mred\x1b[0m plain",
                "\x1b]0;new title\x07title\x1b[2J\x1b[H cleared?",
                "\x1b]52;c;c2VjcmV0\x07clip \x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\",
                f"{CLICK} [b]bold[/b] {PATTERN}",
            ]
        )
        log.flush()
        await pilot.pause()
        rows = shown(log)
        assert rows[:4] == ["red plain", "title cleared?", "clip link", f"{CLICK} [b]bold[/b] {PATTERN}"]
        red = log.render_line(0)
        assert any(seg.style and seg.style.color and seg.style.color.number == 1 for seg in red)
        assert not any(seg.style and seg.style.link for y in range(4) for seg in log.render_line(y))


# --- whole commands ----------------------------------------------------------------------


def write_runbook(folder: Path, command: str, *, title: str = "Roll back", param: str | None = None) -> Path:
    import json

    params = ""
    if param is not None:
        params = f"parameters:\n  - name: tag\n    description: a tag\n    default: {json.dumps(param)}\n"
    text = (
        "runbook: 1\nid: whole\ntitle: " + json.dumps(title) + "\n" + params + "procedures:\n"
        "  - id: main\n    title: Main\n    steps:\n"
        "      - id: cmd\n        title: " + json.dumps(title) + "\n        kind: shell\n"
        "        description: Brings the previous images back, then starts them again, in this order.\n"
        "        command: " + json.dumps(command) + "\n"
    )
    path = folder / "whole.yaml"
    path.write_text(text)
    return path


def unjournaled(runbook: Any, procedure: Any, ask: Any) -> Any:
    return Session(runbook, procedure, workdir=Path("/tmp"), ask=ask)


def detail_text(screen: ProcedureScreen) -> str:
    return str(screen.query_one("#step-command", Static).render())


def command_fits(screen: ProcedureScreen) -> bool:
    return screen.query_one("#step-command-box", VerticalScroll).max_scroll_y == 0


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_a_six_line_command_is_whole_in_the_step_detail(tmp_path: Path, size: tuple[int, int]) -> None:
    runbook = load_runbook(write_runbook(tmp_path, "\n".join(SIX_LINES)))
    app = RunbookApp(AppOptions(runbook=runbook, procedure="main", session_factory=unjournaled))
    async with app.run_test(size=size) as pilot:
        screen = await run_screen(pilot)
        await pilot.pause(0.1)
        text = detail_text(screen)
        assert all(line in text for line in SIX_LINES)
        assert command_fits(screen), "six lines fit the step detail whole"
        assert not screen.query_one("#command-cut").has_class("-cut")


async def test_a_command_too_long_for_the_detail_is_marked_and_v_shows_it_whole(tmp_path: Path) -> None:
    lines = [f"echo step-{i:02d}-of-forty" for i in range(40)]
    runbook = load_runbook(write_runbook(tmp_path, "\n".join(lines)))
    app = RunbookApp(AppOptions(runbook=runbook, procedure="main", session_factory=unjournaled))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await run_screen(pilot)
        await until(pilot, lambda: screen.query_one("#command-cut").has_class("-cut"))
        assert "more lines below · v shows the whole command" in str(
            screen.query_one("#command-cut").render()
        )
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, CommandModal))
        assert str(app.screen.query_one("#command-text", Static).render()) == "\n".join(lines)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_seeds_wrapped_feature_flag_command_is_whole_in_drill_mode(size: tuple[int, int]) -> None:
    runbook = load_runbook(SEED)
    options = AppOptions(
        runbook=runbook, procedure="feature-flag-toggle", drill=True, session_factory=unjournaled
    )
    app = RunbookApp(options)
    async with app.run_test(size=size) as pilot:
        # The seed's ./scripts/feature-flags.sh is not in /tmp: the pre-flight says so first.
        await until(pilot, lambda: isinstance(app.screen, PreflightModal))
        await pilot.press("g")
        screen = await run_screen(pilot)
        assert screen.has_class("-drill")
        command = "./scripts/feature-flags.sh disable strict-connection-flow --scope=global"
        screen.query_one("#steps", StepList).select_step("disable-globally")
        await until(pilot, lambda: "feature-flags.sh" in detail_text(screen))
        await pilot.pause(0.1)
        assert command in " ".join(detail_text(screen).split())
        assert command_fits(screen)


async def test_a_confirmation_takes_yes_only_once_its_end_was_on_screen() -> None:
    command = "\n".join(f"kubectl -n prod rollout undo deploy/svc-{i}" for i in range(30))
    answers: list[bool | None] = []
    app = App[None]()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(
            ConfirmModal(step_id="undo", title="Undo", message="Roll back:", command=command), answers.append
        )
        await pilot.pause(0.1)
        modal = app.screen
        assert isinstance(modal, ConfirmModal) and not modal.seen_end
        assert "more lines below" in str(modal.query_one("#confirm-more", Static).render())
        await pilot.press("y")
        assert answers == [] and app.screen is modal
        await pilot.press("pagedown")
        await pilot.press("y")
        assert answers == [], "a page down is not the end yet"
        await pilot.press("end")
        await pilot.press("y")
        assert answers == [True]


async def test_a_short_confirmation_takes_yes_at_once() -> None:
    answers: list[bool | None] = []
    app = App[None]()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(
            ConfirmModal(step_id="s", title="Stop", message="Stop the api?", command="docker stop api"),
            answers.append,
        )
        await pilot.pause()
        await pilot.press("y")
        assert answers == [True]


# --- inert text --------------------------------------------------------------------------


async def test_runbook_text_values_and_output_are_shown_as_written_and_never_act(tmp_path: Path) -> None:
    title = f"Restore {CLICK} [b]now[/b]"
    command = f"echo '{CLICK}' '[b]' '{PATTERN}'; echo {{{{tag}}}}; echo '[red]not red[/red]' >&2; exit 3"
    runbook = load_runbook(write_runbook(tmp_path, command, title=title, param=f"{CLICK}[b]"))
    app = RunbookApp(
        AppOptions(runbook=runbook, procedure="main", workdir=tmp_path, find_entries=lambda d: [])
    )
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await run_screen(pilot)
        assert title in str(screen.query_one("#step-title", Static).render())
        assert CLICK in detail_text(screen) and PATTERN in detail_text(screen)
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, ParameterModal))
        app.screen.query_one(Input).value = f"{CLICK}[b]"
        await pilot.press("enter")
        await until(pilot, lambda: screen.state.step("cmd").status.is_final)
        await pilot.pause(0.2)
        log = screen.query_one("#log", LogView)
        rows = shown(log)
        assert f"{CLICK} [b] {PATTERN}" in rows
        assert f"{CLICK}[b]" in rows, "the parameter's value, as written"
        assert "[red]not red[/red]" in rows
        # No cell on screen carries an action (what "[@click=...]" markup would have made),
        # and clicking the title, the command and the output does nothing.
        strips = app.screen._compositor.render_strips()
        assert not [seg.text for strip in strips for seg in strip if seg.style and "@click" in seg.style.meta]
        for widget in ("#step-title", "#step-command", "#log"):
            await pilot.click(widget, offset=(2, 0))
            await pilot.click(widget, offset=(8, 0))
        assert app.is_running and app.return_code is None
        for toast in app._notifications:
            assert not toast.markup


async def test_a_parameter_error_shows_the_pattern_as_written() -> None:
    from runbook_tui.core.model import Parameter

    app = App[None]()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(ParameterModal(Parameter("token_id", "an id", pattern=PATTERN), []))
        await pilot.pause()
        await pilot.press(*"short", "enter")
        error = str(app.screen.query_one("#modal-error", Static).render())
        assert PATTERN in error, error


# --- settings ----------------------------------------------------------------------------


def test_refresh_and_low_bandwidth_come_from_the_config_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("refresh = 5\nlow_bandwidth = true\n")
    config = load_config(path)
    assert config.refresh == 5.0 and config.low_bandwidth
    path.write_text('runbook_dirs = []\nrefresh = "fast"\n')
    with pytest.raises(ConfigError, match=r"config.toml:2: refresh must be a number"):
        load_config(path)
    path.write_text("low_bandwidth = 1\n")
    with pytest.raises(ConfigError, match=r"config.toml:1: low_bandwidth must be true or false"):
        load_config(path)


def test_the_flags_override_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runbook_tui.cli import build_parser
    from runbook_tui.commands.app import display_options

    monkeypatch.setenv("RUNBOOK_TUI_CONFIG_DIR", str(tmp_path))
    (tmp_path / "config.toml").write_text("refresh = 5\nlow_bandwidth = true\n")
    parser = build_parser()
    assert display_options(parser.parse_args(["open", "x"])) == {"refresh_rate": 5.0, "low_bandwidth": True}
    args = parser.parse_args(["drill", "x", "--refresh", "20"])
    assert display_options(args) == {"refresh_rate": 20.0, "low_bandwidth": True}
    args = parser.parse_args(["resume", "--low-bandwidth"])
    assert display_options(args)["low_bandwidth"] is True
    with pytest.raises(SystemExit):
        parser.parse_args(["open", "x", "--refresh", "0"])


# --- without colour --------------------------------------------------------------------


def test_every_status_has_a_glyph_and_a_word_even_one_the_tables_do_not_list() -> None:
    from runbook_tui.ui import format as fmt

    for status in StepStatus:
        assert fmt.GLYPH[status] and fmt.LABEL[status]
    words = {fmt.LABEL[s] for s in StepStatus}
    assert {"passed", "failed", "running", "skipped"} <= words

    class Later(str):
        value = "ticked_by_hand"

    assert fmt.LABEL[Later("x")] == "ticked by hand"  # type: ignore[index]
    assert fmt.GLYPH[Later("x")] == "·"  # type: ignore[index]


async def test_without_colour_a_failed_step_says_so_in_words_and_glyphs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    runbook = load_runbook(write_runbook(tmp_path, "echo no; exit 4"))
    app = RunbookApp(AppOptions(runbook=runbook, procedure="main", workdir=tmp_path))
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        screen = await run_screen(pilot)
        await pilot.press("r")
        await until(pilot, lambda: screen.state.step("cmd").status is StepStatus.FAILED)
        await pilot.pause(0.1)
        assert str(screen.query_one("#step-title", Static).render()).startswith("failed")
        strips = app.screen._compositor.render_strips()
        assert any("✘" in strip.text and "Roll back" in strip.text for strip in strips)
