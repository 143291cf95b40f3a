"""The library (bundled, --runbooks, env, config) and the `list` / `show` commands, human and JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import run_cli
from helpers.paths import REPO_ROOT

from runbook_tui.config import ConfigError, load_config
from runbook_tui.core.errors import RunbookLoadError, RunbookTuiError
from runbook_tui.core.library import find_runbooks, resolve_runbook

REPO = REPO_ROOT
BUNDLED = {"connectin", "connectias", "strict-connection-flow"}


def runbook(rid: str, title: str = "Team Runbook", window: str = "< 5 minutes") -> str:
    return f"""\
runbook: 1
id: {rid}
title: {title}
parameters:
  - name: tag
    description: Image tag
    choices: [v1, v2]
    default: v1
decision_matrix:
  rows:
    - {{id: errors, issue: Error rate, action: Roll back, procedure: app, deadline: 10 min}}
procedures:
  - id: app
    title: App rollback
    recovery_window: {window}
    prechecks:
      - {{id: look, title: Look, kind: manual}}
    steps:
      - {{id: pin, title: Pin tag, kind: compose_image, service: api, tag: "{{{{tag}}}}"}}
    verification:
      - {{id: health, title: Health, kind: http, url: "http://localhost:1/health"}}
"""


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI; config and data folders are the test's own (conftest sets them)."""
    return run_cli(*args, env={"COLUMNS": "80", **(env or {})}, cwd=REPO)


def as_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def team(tmp_path: Path) -> Path:
    folder = tmp_path / "team"
    (folder / "nested").mkdir(parents=True)
    (folder / "drills").mkdir()
    (folder / "team.yaml").write_text(runbook("team"))
    (folder / "nested" / "broken.yml").write_text(
        "runbook: 1\nid: broken\ntitle: Broken one\nprocedures: {}\n"
    )
    (folder / "drills" / "team.yaml").write_text("sandbox: true\n")
    (folder / "team.drill.yaml").write_text("sandbox: true\n")
    (folder / "README.md").write_text("# About these runbooks\n")
    return folder


def test_list_json_bundled() -> None:
    entries = as_json(cli("list", "--json"))
    assert {e["id"] for e in entries} == BUNDLED
    for entry in entries:
        assert set(entry) >= {"id", "title", "path", "source", "ok", "procedures", "problems"}
        assert entry["source"] == "bundled" and entry["ok"] and entry["problems"] == []
        assert Path(entry["path"]).is_file() and entry["procedures"]
        for proc in entry["procedures"]:
            assert set(proc) == {"id", "title", "target_seconds"}
            assert proc["target_seconds"] is None or proc["target_seconds"] > 0


def test_list_json_with_option_dir_lists_broken_beside_good(team: Path) -> None:
    entries = {e["id"]: e for e in as_json(cli("list", "--json", "--runbooks", str(team)))}
    assert set(entries) == BUNDLED | {"team", "broken"}  # drills and README are not runbooks
    assert entries["team"]["source"] == "option"
    assert entries["team"]["procedures"] == [{"id": "app", "title": "App rollback", "target_seconds": 300}]
    broken = entries["broken"]
    assert not broken["ok"] and broken["title"] == "Broken one" and broken["procedures"] == []
    assert broken["problems"] == [
        {
            "file": str(team / "nested" / "broken.yml"),
            "line": 4,
            "column": 13,
            "message": "'procedures' must be a list (lines starting with '- '), found a mapping (key: value)",
            "severity": "error",
        }
    ]


def test_env_and_config_folders(tmp_path: Path, isolated_dirs: Path) -> None:
    from_env, from_config = tmp_path / "env-a", tmp_path / "cfg"
    for folder, rid in ((from_env, "from-env"), (from_config, "from-config")):
        folder.mkdir()
        (folder / f"{rid}.yaml").write_text(runbook(rid))
    config = isolated_dirs / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'runbook_dirs = ["{os.path.relpath(from_config, config.parent)}"]\n')
    env = {"RUNBOOK_TUI_RUNBOOKS": os.pathsep.join([str(from_env), str(tmp_path / "not-there")])}
    sources = {e["id"]: e["source"] for e in as_json(cli("list", "--json", env=env))}
    assert sources == {"from-env": "env", "from-config": "config"} | dict.fromkeys(BUNDLED, "bundled")


def test_bad_config_names_file_and_line(isolated_dirs: Path) -> None:
    config = isolated_dirs / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("# my settings\nrunbook_dirs = [~/runbooks]\n")
    result = cli("list")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{config}:2:" in result.stderr and "invalid TOML" in result.stderr
    config.write_text("runbook_dir = []\n")
    with pytest.raises(ConfigError, match=r"config.toml:1: unknown setting 'runbook_dir' \(did you mean"):
        load_config()
    config.write_text("\n\nrunbook_dirs = '/srv'\n")
    with pytest.raises(ConfigError, match=r"config.toml:3: runbook_dirs must be a list"):
        load_config()


def test_option_dir_shadows_bundled_id(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(runbook("connectin", title="My ConnectIn"))
    assert resolve_runbook("connectin", [tmp_path]).title == "My ConnectIn"
    entries = [e for e in find_runbooks([tmp_path]) if e.id == "connectin"]
    assert [e.source for e in entries] == ["option", "bundled"]
    assert entries[1].problems[0].severity == "warning" and entries[1].ok


def test_missing_option_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RunbookTuiError, match="no such folder"):
        find_runbooks([tmp_path / "nope"])
    result = cli("list", "--runbooks", str(tmp_path / "nope"))
    assert result.returncode == 2 and "no such folder" in result.stderr


def test_show_json_contract(team: Path) -> None:
    data = as_json(cli("show", "team", "--json", "--runbooks", str(team)))
    assert (data["id"], data["title"], data["path"]) == ("team", "Team Runbook", str(team / "team.yaml"))
    [proc] = data["procedures"]
    assert (proc["id"], proc["title"], proc["target_seconds"], proc["window"]) == (
        "app",
        "App rollback",
        300,
        "< 5 minutes",
    )
    assert [(s["id"], s["kind"], s["phase"]) for s in proc["steps"]] == [
        ("look", "manual", "precheck"),
        ("pin", "compose_image", "step"),
        ("health", "http", "verification"),
    ]
    assert all(set(s) >= {"id", "title", "kind", "phase"} for s in proc["steps"])
    assert data["parameters"] == [
        {
            "name": "tag",
            "description": "Image tag",
            "secret": False,
            "required": True,
            "choices": ["v1", "v2"],
            "pattern": None,
            "default": "v1",
        }
    ]
    assert data["decision_matrix"] == [
        {
            "id": "errors",
            "issue": "Error rate",
            "threshold": "",
            "action": "Roll back",
            "procedure": "app",
            "deadline_seconds": 600,
        }
    ]


def test_show_by_path_and_every_bundled_id(team: Path) -> None:
    assert as_json(cli("show", str(team / "team.yaml"), "--json"))["id"] == "team"
    for rid in BUNDLED:
        data = as_json(cli("show", rid, "--json"))
        assert data["id"] == rid and data["procedures"]
        assert all(step["kind"] for proc in data["procedures"] for step in proc["steps"])


def test_show_unknown_id_suggests_and_exits_2() -> None:
    result = cli("show", "conectin")
    assert result.returncode == 2
    assert "did you mean 'connectin'?" in result.stderr and "known ids:" in result.stderr
    assert "Traceback" not in result.stderr


def test_show_broken_runbook_exits_1_with_problems(team: Path) -> None:
    result = cli("show", "broken", "--runbooks", str(team))
    assert result.returncode == 1
    assert f"{team / 'nested' / 'broken.yml'}:4:13: 'procedures' must be a list" in result.stderr


@pytest.mark.slow
def test_human_output_fits_80_columns(team: Path) -> None:
    long_title = "A Very Long Runbook Title That Goes On And On Well Past The Edge Of Any Terminal"
    (team / "long.yaml").write_text(runbook("long-" + "x" * 40, title=long_title))
    listing = cli("list", "--runbooks", str(team))
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert any(line.startswith("team ") and "Team Runbook" in line for line in lines)
    assert any("broken" in line and "BROKEN:" in line for line in lines)
    for rid in [*BUNDLED, "team"]:
        show = cli("show", rid, "--runbooks", str(team))
        assert show.returncode == 0 and all(len(line) <= 80 for line in show.stdout.splitlines())
    outline = cli("show", "team", "--runbooks", str(team)).stdout
    assert "Team Runbook (team)" in outline and "[< 5 minutes]" in outline
    assert "check " in outline and "verify " in outline


def test_reload_sees_changed_files(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text(runbook("t", title="First"))
    assert resolve_runbook("t", [tmp_path]).title == "First"
    time.sleep(0.01)
    path.write_text(runbook("t", title="Second title"))
    assert resolve_runbook("t", [tmp_path]).title == "Second title"


def test_unknown_id_error_lists_known_ids(tmp_path: Path) -> None:
    with pytest.raises(RunbookLoadError) as info:
        resolve_runbook("strict-conection-flow")
    assert info.value.exit_code == 2
    assert "did you mean 'strict-connection-flow'?" in str(info.value)


@pytest.mark.slow
def test_find_500_runbooks_is_quick(tmp_path: Path) -> None:
    text = (REPO / "runbooks" / "connectin.yaml").read_text()
    for i in range(500):
        (tmp_path / f"rb{i}.yaml").write_text(text.replace("id: connectin\n", f"id: rb{i}\n", 1))
    started = time.perf_counter()
    entries = find_runbooks([tmp_path])
    elapsed = time.perf_counter() - started
    assert sum(1 for e in entries if e.ok and e.source == "option") == 500
    assert elapsed < 20, elapsed  # about 2 s on a 2-core CI machine; a regression to O(n^2) would show


LIST_PROBE = """
import sys
from runbook_tui.cli import main
code = main(sys.argv[1:])
print("parsed:", "yaml" in sys.modules, file=sys.stderr)
"""


def test_list_reads_the_index_and_parses_only_what_changed(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    folder.mkdir()
    (folder / "team.yaml").write_text(runbook("team", "Team Runbook"))
    settled = time.time() - 60  # the index does not trust files written in the last 2 s
    os.utime(folder / "team.yaml", (settled, settled))

    def listed() -> tuple[list[dict[str, Any]], bool]:
        args = [sys.executable, "-c", LIST_PROBE, "list", "--json", "--runbooks", str(folder)]
        done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=True)
        return json.loads(done.stdout), "parsed: True" in done.stderr

    first, parsed_first = listed()
    again, parsed_again = listed()
    assert parsed_first and not parsed_again, "the second list comes from the index"
    assert again == first
    team = next(e for e in again if e["id"] == "team")
    assert [(p["id"], p["target_seconds"]) for p in team["procedures"]] == [("app", 300)]

    (folder / "team.yaml").write_text(runbook("team", "Team Runbook", window="10-30 minutes"))
    os.utime(folder / "team.yaml", (settled + 1, settled + 1))
    changed, parsed = listed()
    assert parsed
    team = next(e for e in changed if e["id"] == "team")
    assert [(p["id"], p["target_seconds"]) for p in team["procedures"]] == [("app", 1800)]


def test_show_names_a_fleet_steps_targets(tmp_path: Path) -> None:
    (tmp_path / "hosts.ini").write_text("[web]\nweb1\n")
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "runbook: 1\nid: fleet\ntitle: Fleet\ninventory: hosts.ini\nmax_hosts: 12\n"
        "procedures:\n  - id: main\n    title: Main\n    steps:\n"
        "      - {id: restart, title: Restart api, kind: shell, command: systemctl restart api,"
        " targets: 'web:!web3', serial: [1, '30%']}\n"
        "      - {id: local, title: Local, kind: shell, command: 'true'}\n"
    )
    [proc] = as_json(cli("show", str(path), "--json"))["procedures"]
    fleet, local = proc["steps"]
    assert (fleet["targets"], fleet["serial"], fleet["max_hosts"]) == ("web:!web3", ["1", "30%"], 12)
    assert "targets" not in local
    text = cli("show", str(path)).stdout
    assert "on hosts web:!web3; serial 1, 30%; at most 12 hosts" in text
