"""Drills leave nothing behind: no process (gpg-agent, servers, writers) and no sandbox folder.

Each bundled drill runs as a user runs it (``run RB PROC --drill --plain --yes``) with
``TMPDIR`` pointing at a folder of the test's own, so its sandbox is made there; then the
processes that name that folder (working directory, command line or environment) and the
folders in it are counted before and after. Zombies are not counted: they have stopped,
and only wait for a parent (here, often an init that does not reap) to collect them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.cli import cli_argv
from helpers.paths import REPO_ROOT

from runbook_tui.core.drills import build_sandbox, find_drill
from runbook_tui.core.drills.sandbox import sandbox_processes
from runbook_tui.core.library import resolve_runbook
from runbook_tui.core.model import Runbook

ROOT = REPO_ROOT
pytestmark = [pytest.mark.timeout(300), pytest.mark.xdist_group("drill")]

# One procedure per bundled drill: every drill's setup and teardown run whatever the procedure.
DRILLS = [
    pytest.param("connectin", "app-rollback", marks=pytest.mark.docker, id="connectin"),
    pytest.param("connectias", "git-tag-rollback", id="connectias"),
    pytest.param("strict-connection-flow", "feature-flag-toggle", id="strict-connection-flow"),
]


@pytest.fixture
def own_tmp() -> Iterator[Path]:
    """A TMPDIR of this test's own (not under pytest's tmp_path, which sits in /tmp too)."""
    folder = Path(tempfile.mkdtemp(prefix="rbt-drill-cleanup-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def live_processes(folder: Path) -> list[str]:
    """Processes that are running (not zombies) and name ``folder``: ``pid cmdline`` each."""
    found = []
    for pid in sandbox_processes(folder):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
        if state not in ("Z", "X"):
            found.append(f"{pid} {cmdline}")
    return found


def gpg_agents(folder: Path) -> list[str]:
    return [p for p in live_processes(folder) if "gpg-agent" in p]


def run_drill(rb_id: str, procedure: str, tmp: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    drill = find_drill(resolve_runbook(rb_id))
    params = [f"--param={k}={v}" for k, v in drill.params.items()]
    env = {**os.environ, "TMPDIR": str(tmp), "DRILL_HANG_SECONDS": "3", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        cli_argv("run", rb_id, procedure, "--drill", "--plain", "--yes", *params, *extra),
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.slow
@pytest.mark.parametrize(("rb_id", "procedure"), DRILLS)
def test_each_bundled_drill_leaves_no_process_and_no_folder(
    rb_id: str, procedure: str, own_tmp: Path
) -> None:
    assert live_processes(own_tmp) == [] and list(own_tmp.iterdir()) == []
    result = run_drill(rb_id, procedure, own_tmp)
    # Whether the procedure succeeds (a busy port on a shared machine) is the e2e tests' business;
    # here it must have run and ended (0 or 1), and left nothing either way.
    assert result.returncode in (0, 1), result.stdout[-3000:] + result.stderr
    assert "drill sandbox: " + str(own_tmp) in result.stdout  # it really was built in our folder
    assert live_processes(own_tmp) == []
    assert gpg_agents(own_tmp) == []
    assert list(own_tmp.iterdir()) == []  # the sandbox, cargo's target/ with it, is gone


@pytest.mark.slow
def test_keep_keeps_the_folder_but_stops_the_gpg_agent(own_tmp: Path) -> None:
    result = run_drill("connectias", "git-tag-rollback", own_tmp, "--keep")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr
    kept = list(own_tmp.iterdir())
    assert len(kept) == 1 and (kept[0] / "work").is_dir()
    assert f"drill sandbox kept at {kept[0] / 'work'}" in result.stdout
    assert live_processes(own_tmp) == []


def test_the_folder_goes_even_while_something_still_writes_into_it() -> None:
    sandbox = build_sandbox(Runbook(id="strict-connection-flow", title="s", procedures=()))
    # A daemon the drill started and did not record: detached, outside the sandbox's cwd,
    # writing new folders and files into it as fast as it can.
    writer = subprocess.Popen(
        [
            "sh",
            "-c",
            'i=0; while :; do i=$((i+1)); d="$DRILL_HOME/spill/$i"; mkdir -p "$d" && echo x > "$d/f"; done',
        ],
        cwd="/",
        env=sandbox.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while not (sandbox.root / "spill" / "3").exists():
            assert writer.poll() is None
        sandbox.close()
        assert not sandbox.root.exists()
        assert writer.wait(timeout=10) is not None  # stopped by close, not by us
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
        shutil.rmtree(sandbox.root, ignore_errors=True)
