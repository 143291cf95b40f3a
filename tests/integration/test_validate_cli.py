"""`runbook-tui validate`: problems on stdout as file:line:col, a summary on stderr, exit 0/1/2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.paths import REPO_ROOT

REPO = REPO_ROOT
INVALID = REPO / "tests" / "data" / "invalid"
GOOD = """\
runbook: 1
id: tiny
title: Tiny
procedures:
  - id: p
    title: P
    steps:
      - {id: s, title: S, kind: manual}
"""


def validate(*paths: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """The real CLI in a subprocess, with isolated config and data folders."""
    return run_cli("validate", *map(str, paths), cwd=cwd)


def test_bundled_runbooks_are_valid() -> None:
    result = validate("runbooks/")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert "all valid" in result.stderr and "Traceback" not in result.stderr


def test_problems_are_located_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = GOOD.replace("kind: manual", "kind: manul").replace("title: Tiny", "titel: Tiny")
    bad.write_text(text)
    column = text.splitlines()[7].index("manul") + 1
    result = validate(bad)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{bad}:1:1: the runbook is missing 'title'",
        f"{bad}:3:1: unknown key 'titel' in the runbook (did you mean 'title'?)",
        f"{bad}:8:{column}: unknown step kind 'manul' (did you mean 'manual'?); kinds: shell, http, docker, "
        "cargo_features, compose_image, git, manual, confirm, watch, ansible",
    ]
    assert "3 problems in 1 file(s)" in result.stderr


@pytest.mark.parametrize("unreadable", [False, True])
def test_malformed_fixtures_in_one_run(unreadable: bool) -> None:
    paths = [p for p in sorted(INVALID.glob("*.yaml")) if (b"# unreadable" in p.read_bytes()) is unreadable]
    result = validate(*paths)
    assert result.returncode == (2 if unreadable else 1)
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for path in paths:  # every file reports, each line is file:line:col: message
        assert any(line.startswith(f"{path}:") for line in lines), path
    for line in lines:
        _file, line_no, col, message = line.split(":", 3)
        assert line_no.isdigit() and col.isdigit() and message.startswith(" ")
    assert f"{len(paths)} files checked" in result.stderr


def test_folder_is_recursive_and_skips_drills(tmp_path: Path) -> None:
    (tmp_path / "team" / "drills").mkdir(parents=True)
    (tmp_path / "team" / "ok.yml").write_text(GOOD)
    (tmp_path / "team" / "drills" / "broken.yaml").write_text("not: [a runbook")
    (tmp_path / "x.drill.yaml").write_text("not: [a runbook")
    (tmp_path / "notes.txt").write_text("ignored")
    result = validate(tmp_path)
    assert result.returncode == 0, result.stdout
    assert "1 file checked: all valid" in result.stderr


def test_mixed_unreadable_wins_with_exit_2(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    bad = tmp_path / "bad.yaml"
    text = GOOD.replace("id: s,", "id: s, timeout: soon,")
    bad.write_text(text)
    column = text.splitlines()[7].index("soon") + 1
    result = validate(good, bad, tmp_path / "missing.yaml")
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        f"{bad}:8:{column}: 'timeout' of manual step 's': cannot read 'soon' as a duration; "
        "write it like 90s, 5m, 1h30m, '< 5 minutes' or '10-30 minutes'",
        f"{tmp_path / 'missing.yaml'}: no such file; check the path",
    ]


def test_ten_megabyte_binary_and_empty_folder(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(os.urandom(10 * 1024 * 1024))
    empty = tmp_path / "empty"
    empty.mkdir()
    result = validate(big, empty)
    assert result.returncode == 2
    out = result.stdout.splitlines()
    assert out == [
        f"{big}: is larger than 4 MB; a runbook is a small text file",
        f"{empty}: no .yaml or .yml runbooks in this folder",
    ]


def test_duplicate_ids_across_files_warn(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yaml").write_text(GOOD)
    result = validate(tmp_path)
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'b.yaml'}: warning: runbook id 'tiny' is also used by {tmp_path / 'a.yaml'}"
    ]


def test_console_script_is_installed() -> None:
    script = shutil.which("runbook-tui", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the console script is not installed next to this python")
    result = subprocess.run([script, "validate", str(INVALID / "empty.yaml")], capture_output=True, text=True)
    assert result.returncode == 1 and ":1:1: empty file" in result.stdout


def test_usage_error_is_exit_2() -> None:
    result = run_cli("validate")
    assert result.returncode == 2 and "Traceback" not in result.stderr
