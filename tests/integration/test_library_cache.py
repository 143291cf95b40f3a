"""The library index: what the list shows is read from one cache file while the runbooks do not change."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.paths import REPO_ROOT

from runbook_tui import locations
from runbook_tui.core.library import (
    RunbookEntry,
    find_runbooks,
    iter_runbooks,
    resolve_runbook,
    runbook_batches,
)
from runbook_tui.core.library_cache import INDEX_NAME, LibraryIndex
from runbook_tui.core.loader import load_runbook

REPO = REPO_ROOT


def runbook(rid: str, title: str, window: str = "< 5 minutes") -> str:
    return f"""\
runbook: 1
id: {rid}
title: {title}
tags: [api, docker]
owner: platform
severity: high
decision_matrix:
  rows:
    - {{id: errors, issue: Error rate, action: Roll back, procedure: app, deadline: 10 min}}
procedures:
  - id: app
    title: App rollback
    recovery_window: {window}
    steps:
      - {{id: look, title: Look, kind: manual}}
  - id: db
    title: Database rollback
    steps:
      - {{id: down, title: Down, kind: manual}}
"""


BROKEN = "runbook: 1\nid: broken\ntitle: Broken one\nprocedures: {}\n"


def settle(*paths: Path, age: float = 3600) -> None:
    """Date files back, as files are that were not written a moment ago (the index skips those)."""
    when = time.time() - age
    for path in paths:
        os.utime(path, (when, when))


@pytest.fixture
def library(tmp_path: Path) -> Path:
    folder = tmp_path / "library"
    folder.mkdir()
    (folder / "team.yaml").write_text(runbook("team", "Team Runbook"))
    (folder / "other.yaml").write_text(runbook("other", "Other Runbook", window="10-30 minutes"))
    (folder / "broken.yml").write_text(BROKEN)
    (folder / "shadow.yaml").write_text(runbook("connectin", "My ConnectIn"))  # shadows a bundled id
    settle(*folder.iterdir())
    return folder


def index_file() -> Path:
    return locations.cache_dir() / INDEX_NAME


def fresh_entries(folder: Path, cache: Path) -> list[RunbookEntry]:
    """The entries found with an empty cache folder of their own (every runbook loaded)."""
    return list(iter_runbooks([folder], LibraryIndex(cache)))


def test_a_warm_index_gives_the_same_entries_as_loading_every_file(library: Path, tmp_path: Path) -> None:
    first = find_runbooks([library])
    assert index_file().is_file(), "the first look at the library writes the index"
    records = json.loads(index_file().read_text())["files"]
    assert os.path.abspath(library / "team.yaml") in records

    cached = find_runbooks([library])
    fresh = fresh_entries(library, tmp_path / "other-cache")
    assert cached == fresh == first
    team = next(e for e in cached if e.id == "team")
    assert team.summary is not None
    assert [(p.id, p.title) for p in team.summary.procedures] == [
        ("app", "App rollback"),
        ("db", "Database rollback"),
    ]
    assert team.summary.procedures[0].window is not None
    assert team.summary.procedures[0].window.text == "< 5 minutes"
    assert (team.summary.tags, team.summary.owner, team.summary.decision_rows) == (
        ("api", "docker"),
        "platform",
        1,
    )
    broken = next(e for e in cached if e.id == "broken")
    assert broken.summary is None and not broken.ok and broken.runbook is None
    assert any("procedures" in p.message for p in broken.problems)
    shadowed = [e for e in cached if e.id == "connectin"]
    assert [e.source for e in shadowed] == ["option", "bundled"]
    assert shadowed[1].problems[-1].severity == "warning"
    # The whole runbook is loaded when asked for, and is the one on disk.
    assert team.runbook == load_runbook(library / "team.yaml")


def test_a_warm_start_reads_no_runbook(library: Path) -> None:
    """With the index warm, a new process lists the library without loading one runbook."""
    find_runbooks([library])
    code = (
        "import json\n"
        "from pathlib import Path\n"
        "from runbook_tui.core import library\n"
        f"entries = library.find_runbooks([Path({str(library)!r})])\n"
        "print(json.dumps([[e.id, e.title, e.ok, len(e.problems)] for e in entries]))\n"
        "print(len(library._CACHE))\n"  # the loads done in this process
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    listed, loads = result.stdout.strip().splitlines()
    assert loads == "0", "no runbook was parsed"
    assert json.loads(listed) == [[e.id, e.title, e.ok, len(e.problems)] for e in find_runbooks([library])]


def test_a_changed_file_is_read_again(library: Path) -> None:
    team = library / "team.yaml"
    find_runbooks([library])
    # Same size, new time: a title of the same length.
    team.write_text(runbook("team", "Team Runbook".replace("Team", "Mine")))
    settle(team, age=1800)
    assert next(e for e in find_runbooks([library]) if e.id == "team").title == "Mine Runbook"
    # New size, same time as the index saw last.
    before = team.stat().st_mtime_ns
    team.write_text(runbook("team", "A Much Longer Team Runbook Title"))
    os.utime(team, ns=(before, before))
    assert (
        next(e for e in find_runbooks([library]) if e.id == "team").title
        == "A Much Longer Team Runbook Title"
    )
    # Broken now: listed with its problems.
    team.write_text(BROKEN.replace("broken", "team"))
    settle(team, age=900)
    entry = next(e for e in find_runbooks([library]) if e.path == team)
    assert not entry.ok and entry.problems


def test_a_file_written_a_moment_ago_is_not_trusted_to_the_index(library: Path) -> None:
    """Two writes in one timestamp tick with the same size would look alike; such files are read each time."""
    fresh = library / "fresh.yaml"
    fresh.write_text(runbook("fresh", "Fresh"))
    find_runbooks([library])
    records = json.loads(index_file().read_text())["files"]
    assert os.path.abspath(fresh) not in records and os.path.abspath(library / "team.yaml") in records
    fresh.write_text(runbook("fresh", "Fres2"))  # same size, maybe the same mtime
    assert next(e for e in find_runbooks([library]) if e.id == "fresh").title == "Fres2"


@pytest.mark.parametrize(
    "content",
    [
        b"\x00\xff not json",
        b'{"format": 1, "files": ',  # cut short
        b"[1, 2, 3]",
        b'{"format": 1, "version": "0.0.0-old", "code": 0, "files": {}}',
    ],
    ids=["garbage", "truncated", "not-an-object", "old-version"],
)
def test_a_corrupt_or_old_index_is_ignored_and_replaced(library: Path, content: bytes) -> None:
    expected = find_runbooks([library])
    index_file().write_bytes(content)
    assert find_runbooks([library]) == expected
    data = json.loads(index_file().read_text())
    assert os.path.abspath(library / "team.yaml") in data["files"], "rewritten"


def test_a_bad_record_is_read_again(library: Path) -> None:
    expected = find_runbooks([library])
    data = json.loads(index_file().read_text())
    team = os.path.abspath(library / "team.yaml")
    data["files"][team]["problems"] = 5
    data["files"][team]["title"] = "Not From The File"
    index_file().write_text(json.dumps(data))
    assert find_runbooks([library]) == expected
    assert json.loads(index_file().read_text())["files"][team]["title"] == "Team Runbook"


def test_an_unwritable_cache_folder_still_lists(
    library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    monkeypatch.setenv("RUNBOOK_TUI_CACHE_DIR", str(blocker / "cache"))  # cannot be created
    entries = find_runbooks([library])
    assert {"team", "other", "broken", "connectin"} <= {e.id for e in entries}
    assert entries == find_runbooks([library])
    result = run_cli(
        "list", "--json", "--runbooks", str(library), env={"RUNBOOK_TUI_CACHE_DIR": str(blocker / "cache")}
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert {"team", "other", "broken"} <= {e["id"] for e in json.loads(result.stdout)}


def test_the_index_is_written_whole_or_not_at_all(library: Path) -> None:
    find_runbooks([library])
    (library / "more.yaml").write_text(runbook("more", "More"))
    settle(library / "more.yaml")
    find_runbooks([library])
    assert sorted(p.name for p in index_file().parent.iterdir()) == [INDEX_NAME], "no temporary files left"
    records = json.loads(index_file().read_text())["files"]
    assert os.path.abspath(library / "more.yaml") in records
    (library / "more.yaml").unlink()
    (library / "other.yaml").write_text(runbook("other", "Other, changed"))
    settle(library / "other.yaml", age=60)
    find_runbooks([library])
    records = json.loads(index_file().read_text())["files"]
    assert os.path.abspath(library / "more.yaml") not in records, "a deleted file's record goes"


def test_show_and_list_json_are_the_same_warm_and_cold(library: Path) -> None:
    def cli(*args: str) -> str:
        result = run_cli(*args, "--runbooks", str(library), env={"COLUMNS": "80"}, cwd=REPO)
        assert result.returncode == 0, result.stderr
        return result.stdout

    cold_list, cold_show = cli("list", "--json"), cli("show", "team", "--json")
    assert index_file().is_file()
    assert cli("list", "--json") == cold_list and cli("show", "team", "--json") == cold_show
    assert resolve_runbook("team", [library]) == load_runbook(library / "team.yaml")


def test_one_file_reached_twice_is_listed_once(library: Path, tmp_path: Path) -> None:
    (library / "link.yaml").symlink_to(library / "team.yaml")
    hard = tmp_path / "hard"
    hard.mkdir()
    os.link(library / "other.yaml", hard / "other-copy.yaml")  # a second file name, so a second entry
    entries = find_runbooks([library, hard])
    assert [e.path.name for e in entries if e.id == "team"] == ["link.yaml"]  # team.yaml is the same file
    assert [e.path.name for e in entries if e.id == "other"] == ["other.yaml", "other-copy.yaml"]


def big_library(tmp_path: Path, count: int = 45) -> Path:
    """A folder of ``count`` settled runbooks, rb00 to rb44: more than one screenful."""
    folder = tmp_path / "big"
    folder.mkdir()
    for i in range(count):
        (folder / f"rb{i:02d}.yaml").write_text(runbook(f"rb{i:02d}", f"Runbook {i}"))
    settle(*folder.iterdir())
    return folder


def test_a_large_library_arrives_first_screenful_first(tmp_path: Path) -> None:
    folder = big_library(tmp_path)
    batches = list(runbook_batches([folder], first=20, every=0))
    assert len(batches[0]) == 20
    assert len(batches) > 2, "a cold library is read in several batches"
    assert [e.id for b in batches for e in b] == [e.id for e in find_runbooks([folder])]


def test_a_warm_index_sends_the_library_in_one_batch(tmp_path: Path) -> None:
    """Each batch costs the list a relayout; entries from the index are not worth cutting for."""
    folder = big_library(tmp_path)
    listed = [e.id for e in find_runbooks([folder])]  # the first start fills the index

    batches = list(runbook_batches([folder], first=20, every=0))
    assert [[e.id for e in b] for b in batches] == [listed]

    # One file changed since: read again, and the batches resume being cut where files are read.
    (folder / "rb30.yaml").write_text(runbook("rb30", "Runbook thirty"))
    settle(folder / "rb30.yaml")
    batches = list(runbook_batches([folder], first=20, every=0))
    assert [e.id for b in batches for e in b] == listed
    assert [e.title for b in batches for e in b if e.id == "rb30"] == ["Runbook thirty"]
    assert [e.id for e in batches[0]][-1] == "rb30", "the first batch ends at the file that was read"


async def test_the_app_lists_from_the_index_and_opens_the_whole_runbook(library: Path) -> None:
    from runbook_tui.ui.app import AppOptions, RunbookApp
    from runbook_tui.ui.screens.library import LibraryScreen
    from runbook_tui.ui.screens.runbook import RunbookScreen

    find_runbooks([library])  # a warm index
    app = RunbookApp(AppOptions(runbook_dirs=(library,), probe_signals=False, workdir=library))
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LibraryScreen)
        assert {"team", "other", "broken", "connectin", "connectias"} <= {e.id for e in screen.shown}
        await pilot.press(*"other")
        await pilot.pause()
        assert [e.id for e in screen.shown] == ["other"]
        # Changed on disk since it was listed, and broken now: said, not opened.
        (library / "other.yaml").write_text(BROKEN.replace("broken", "other"))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LibraryScreen)
        assert any("other cannot be opened" in str(n.message) for n in app._notifications)
        await pilot.press("escape", *"team", "enter")
        await pilot.pause()
        assert isinstance(app.screen, RunbookScreen)
        assert app.screen.runbook == load_runbook(library / "team.yaml")


async def test_a_broken_config_file_is_said_in_the_app_not_an_empty_library(tmp_path: Path) -> None:
    from runbook_tui.ui.app import AppOptions, RunbookApp
    from runbook_tui.ui.screens.library import LibraryScreen

    config = locations.config_dir() / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('runbook_dirs = "~/runbooks\n')  # an unclosed string
    app = RunbookApp(AppOptions(probe_signals=False, workdir=tmp_path))
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, LibraryScreen)
        said = [n for n in app._notifications if n.severity == "error"]
        assert len(said) == 1
        assert str(config) in said[0].message and ":1:" in said[0].message
        assert said[0].title == "Cannot read the library"

        # Mended while the app runs: ctrl+r lists the library.
        config.write_text('runbook_dirs = ["~/runbooks"]\n')
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert {"connectin", "connectias"} <= {e.id for e in app.screen.shown}


def test_a_warm_library_is_listed_at_once_and_a_changed_one_is_not(library: Path) -> None:
    from runbook_tui.core.library import indexed_runbooks

    assert indexed_runbooks([library]) is None, "a cold index lists nothing at once"
    listed = find_runbooks([library])  # fills the index
    assert indexed_runbooks([library]) == listed

    (library / "new.yaml").write_text(runbook("new", "New Runbook"))
    settle(library / "new.yaml")
    assert indexed_runbooks([library]) is None, "a file the index lacks is read by the batches"
    find_runbooks([library])
    assert indexed_runbooks([library], budget=0) is None, "out of time: the batches take over"


async def test_the_app_shows_a_warm_library_in_its_first_frame(library: Path) -> None:
    from runbook_tui.ui.app import AppOptions, RunbookApp
    from runbook_tui.ui.screens.library import LibraryScreen

    listed = [e.id for e in find_runbooks([library])]  # a warm index
    app = RunbookApp(AppOptions(runbook_dirs=(library,), probe_signals=False, workdir=library))
    async with app.run_test(size=(100, 30)):
        screen = app.screen
        assert isinstance(screen, LibraryScreen)
        assert [e.id for e in screen.shown] == listed
        assert not [w for w in app.workers if w.group == "library"], "nothing left to read"
