"""``runbook-tui plan``: diffs against the files now, rendered commands, nothing changed, real Docker."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import CLI, run_cli
from helpers.engine import write_runbook
from helpers.images import build_test_image, free_port
from helpers.paths import REPO_ROOT

from runbook_tui.core.journal import load
from runbook_tui.core.journal.fold import fold
from runbook_tui.core.report.json_report import render as render_json
from runbook_tui.core.report.markdown import render as render_markdown
from runbook_tui.core.report.timeline import build_report

PARAM = ("--param", "tag=1.1.0", "--workdir")
COMPOSE = """\
services:
  api:
    image: {image}:1.0.0
    network_mode: host
    environment:
      PORT: "{port}"
"""

CARGO = """\
[package]
name = "app"
version = "0.1.0"

[features]
default = ["strict", "fast"]
strict = []
fast = []
"""

RUNBOOK = """
runbook: 1
id: rollback
title: Rollback
parameters:
  - name: tag
    pattern: '[0-9][.][0-9][.][0-9]'
  - name: api_token
    secret: true
    required: false
    default: ''
procedures:
  - id: main
    title: Roll back
    recovery_window: 10m
    prechecks:
      - id: look
        title: Look at the compose file
        kind: shell
        read_only: true
        command: grep -c image docker-compose.yml
    steps:
      - id: pin
        title: Pin the api to {{{{tag}}}}
        kind: compose_image
        service: api
        tag: "{{{{tag}}}}"
      - id: features
        title: Drop strict
        kind: cargo_features
        remove: [{feature}]
      - id: wipe
        title: Wipe the cache and restart
        kind: shell
        destructive: true
        command: |
          rm -rf cache && touch wiped-{{{{tag}}}}
          docker compose -p {project} up -d
"""


def _hashes(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _project(tmp_path: Path, *, feature: str = "strict", image: str = "rbt-test-plan", port: int = 0) -> Path:
    work = tmp_path / "work"
    (work / "cache").mkdir(parents=True)
    (work / "cache" / "keep.txt").write_text("cached\n")
    (work / "docker-compose.yml").write_text(COMPOSE.format(image=image, port=port or 1))
    (work / "Cargo.toml").write_text(CARGO)
    write_runbook(tmp_path, RUNBOOK.format(feature=feature, project=f"rbtplan{port}"))
    return work


def _plan(tmp_path: Path, work: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "plan", str(tmp_path / "runbook.yaml"), "main", "--workdir", str(work), *extra],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_plan_shows_both_diffs_and_the_rendered_command_and_changes_nothing(tmp_path: Path) -> None:
    work = _project(tmp_path)
    before = _hashes(work)
    result = _plan(tmp_path, work, "--param", "tag=1.1.0")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "-    image: rbt-test-plan:1.0.0" in out and "+    image: rbt-test-plan:1.1.0" in out
    assert '-default = ["strict", "fast"]' in out and '+default = ["fast"]' in out
    assert "rm -rf cache && touch wiped-1.1.0" in out  # the command with its value, for reading
    assert "DESTRUCTIVE" in out and "gate: Wipe the cache and restart is destructive" in out
    assert "ran read-only" in out and "> 1" in out  # the read_only pre-check ran and said what it saw
    assert "unknown" in out and "skipped" not in out  # the shell step's effect is unknown, never skipped
    assert "Recovery window: 10m" in out or "Recovery window: 10 m" in out or "Recovery window:" in out
    assert _hashes(work) == before  # byte-identical, nothing added or removed
    assert not list(work.glob("wiped-*"))


def test_what_cannot_be_planned_is_said_and_exits_1(tmp_path: Path) -> None:
    work = _project(tmp_path, feature="nosuch")
    before = _hashes(work)
    result = _plan(tmp_path, work)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "parameter tag not given" in out
    assert "nosuch" in out and "CANNOT PLAN" in out
    assert _hashes(work) == before
    data = json.loads(_plan(tmp_path, work, "--json").stdout)
    assert data["complete"] is False
    steps = {s["id"]: s for s in data["steps"]}
    assert steps["wipe"]["effect"] == "unknown" and steps["wipe"]["destructive"] is True
    assert steps["features"]["problems"] and "nosuch" in steps["features"]["problems"][0]
    assert any("parameter tag not given" in u for u in data["unplanned"])


def test_a_bad_procedure_is_usage_exit_2(tmp_path: Path) -> None:
    _project(tmp_path)
    bad = run_cli("plan", str(tmp_path / "runbook.yaml"), "nope")
    assert bad.returncode == 2 and "no procedure 'nope'" in bad.stderr


def test_plan_first_with_yes_prints_the_plan_runs_and_journals_it(tmp_path: Path) -> None:
    work = tmp_path / "w"
    work.mkdir()
    (work / "Cargo.toml").write_text(CARGO)
    path = write_runbook(
        tmp_path,
        """
        runbook: 1
        id: pf
        title: Plan first
        procedures:
          - id: main
            title: Main
            steps:
              - id: features
                title: Drop strict
                kind: cargo_features
                remove: [strict]
        """,
    )
    result = subprocess.run(
        [*CLI, "run", str(path), "main", "--plain", "--yes", "--plan-first", "--workdir", str(work)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.index('+default = ["fast"]') < result.stdout.index("session_started")
    journal = next((Path(os.environ["RUNBOOK_TUI_DATA_DIR"]) / "sessions").glob("*.jsonl"))
    state = fold(load(journal).events)
    assert state.plans and state.plans[0].by == "--yes"
    report = render_markdown(build_report(journal))
    assert "## Plan reviewed" in report and "Reviewed by --yes" in report
    data = json.loads(render_json(build_report(journal)))
    assert data["plans"][0]["by"] == "--yes" and any(
        '+default = ["fast"]' in x for x in data["plans"][0]["lines"]
    )


def test_plan_first_without_a_terminal_and_without_yes_runs_nothing(tmp_path: Path) -> None:
    work = _project(tmp_path)
    before = _hashes(work)
    result = subprocess.run(
        [*CLI, "run", str(tmp_path / "runbook.yaml"), "main", "--plain", "--plan-first", *PARAM, str(work)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert result.returncode == 1 and "pass --yes" in result.stdout
    assert _hashes(work) == before


def _compose(work: Path, project: str, *args: str) -> str:
    env = {**os.environ, "DOCKER_API_VERSION": "1.41"}
    done = subprocess.run(
        ["docker", "compose", "-p", project, *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.docker
def test_plan_against_a_live_compose_project_leaves_it_as_it_was(tmp_path: Path, docker_client: Any) -> None:
    build_test_image(docker_client, ["rbt-test-plan:1.0.0"], version="1.0.0")
    build_test_image(docker_client, ["rbt-test-plan:1.1.0"], version="1.1.0")
    port = free_port()
    work = _project(tmp_path, port=port)
    project = f"rbtplan{port}"
    _compose(work, project, "up", "-d")
    try:
        container = docker_client.containers.get(_compose(work, project, "ps", "-q").strip())
        seen = (container.id, container.attrs["State"]["StartedAt"], container.image.tags)
        before = _hashes(work)
        result = _plan(tmp_path, work, "--param", "tag=1.1.0")
        assert result.returncode == 0, result.stdout + result.stderr
        assert "+    image: rbt-test-plan:1.1.0" in result.stdout
        assert f"docker compose -p {project} up -d" in result.stdout
        container = docker_client.containers.get(_compose(work, project, "ps", "-q").strip())
        assert (container.id, container.attrs["State"]["StartedAt"], container.image.tags) == seen
        assert container.status == "running"
        assert _hashes(work) == before
    finally:
        _compose(work, project, "down", "--timeout", "1")


def test_docs_name_the_plan_json_fields() -> None:
    docs = (REPO_ROOT / "docs" / "cli-json.md").read_text()
    for field in ("unplanned", "effect", "read_only", "complete"):
        assert field in docs, field
    assert textwrap.dedent("runbook-tui plan") in (REPO_ROOT / "README.md").read_text()


def test_a_read_only_capture_fills_later_steps_of_the_plan(tmp_path: Path) -> None:
    work = tmp_path / "w"
    work.mkdir()
    (work / "VERSION").write_text("previous: v1.4.2\n")
    write_runbook(
        tmp_path,
        """
        runbook: 1
        id: cap
        title: Capture
        parameters:
          - name: previous_tag
            pattern: 'v[0-9.]+'
        procedures:
          - id: main
            title: Main
            steps:
              - id: find
                title: Find the previous tag
                kind: shell
                read_only: true
                command: cat VERSION
                capture: {name: previous_tag, pattern: 'previous: (\\S+)'}
              - id: deploy
                title: Deploy {{previous_tag}}
                kind: shell
                command: ./deploy.sh {{previous_tag}}
        """,
    )
    result = _plan(tmp_path, work)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "run: ./deploy.sh v1.4.2" in result.stdout and "Deploy v1.4.2" in result.stdout


def test_a_git_tag_that_does_not_exist_cannot_be_planned(tmp_path: Path) -> None:
    work = tmp_path / "repo"
    work.mkdir()
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q", str(work)], check=True)
    subprocess.run([*git, "-C", str(work), "commit", "-q", "--allow-empty", "-m", "one"], check=True)
    subprocess.run([*git, "-C", str(work), "tag", "-a", "v1.0.0", "-m", "v1"], check=True)
    head = (work / ".git" / "HEAD").read_bytes()
    write_runbook(
        tmp_path,
        """
        runbook: 1
        id: gitplan
        title: Git plan
        procedures:
          - id: main
            title: Main
            steps:
              - id: checkout
                title: Check out the release
                kind: git
                action: checkout
                tag: v9.9.9
        """,
    )
    result = _plan(tmp_path, work)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "CANNOT PLAN" in result.stdout and "v9.9.9" in result.stdout
    assert (work / ".git" / "HEAD").read_bytes() == head


def test_a_secret_printed_by_a_read_only_step_is_masked_in_the_plan(tmp_path: Path) -> None:
    work = tmp_path / "w"
    work.mkdir()
    write_runbook(
        tmp_path,
        """
        runbook: 1
        id: sec
        title: Secret
        parameters:
          - name: api_token
            secret: true
        procedures:
          - id: main
            title: Main
            steps:
              - id: show
                title: Show the token's use
                kind: shell
                read_only: true
                command: echo "token is $api_token"
        """,
    )
    secrets = tmp_path / "params"
    secrets.write_text("api_token=s3cr3t-value-999\n")
    secrets.chmod(0o600)
    result = _plan(tmp_path, work, "--param-file", str(secrets))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "token is ••••••" in result.stdout and "s3cr3t-value-999" not in result.stdout
