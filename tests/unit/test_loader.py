"""The loader: good runbooks become the model with locations; bad ones give every problem, located."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from types import MappingProxyType

import pytest
from helpers.paths import DATA_DIR, REPO_ROOT

from runbook_tui.core.durations import Window
from runbook_tui.core.errors import RunbookLoadError
from runbook_tui.core.loader import MAX_BYTES, check_file, load_runbook, load_text, try_load
from runbook_tui.core.model import (
    CargoFeaturesSpec,
    ComposeImageSpec,
    ConfirmSpec,
    DockerAction,
    DockerSpec,
    GitAction,
    GitSpec,
    HttpSpec,
    ManualSpec,
    Milestone,
    ParameterSource,
    ShellSpec,
    StepKind,
    WatchSpec,
)

INVALID = DATA_DIR / "invalid"
REPO = REPO_ROOT
EXPECT = re.compile(r"^# expect: (\d+):(\d+): (.+)$", re.M)

GOOD = """\
# A runbook that uses every part of the format.
runbook: 1
id: demo
title: Demo Rollback
description: |
  Roll back the demo service.
owner: platform
severity: high
tags: [docker, git]
parameters:
  - name: previous_tag
    description: Last known good tag
    pattern: '^v[0-9.]+$'
    choices_from:
      docker_tags: demo-api
    example: v1.0.0
  - name: env
    choices: [staging, production]
    default: staging
  - name: token
    secret: true
    required: false
decision_matrix:
  columns: [Signal, Threshold, Action]
  rows:
    - id: error-rate
      issue: Error rate
      threshold: "> 5%"
      severity: High
      impact: Users see errors
      action: Rollback if not resolved in 10 min
      procedure: app-rollback
      deadline: 10 min
      signal:
        url: http://localhost:5007/health
        expect_status: 503
procedures:
  - id: app-rollback
    title: Application Rollback
    when: A bad release.
    scope: api
    symptoms: [High CPU, Errors]
    recovery_window: < 5 minutes
    prechecks:
      - id: state
        title: Container state
        kind: docker
        action: state
        container: api
    steps:
      - id: tags
        title: List tags
        kind: docker
        action: tags
        image: demo-api
      - id: pin
        title: Pin the tag
        kind: compose_image
        service: api
        tag: "{{previous_tag}}"
      - id: restart
        title: Restart
        kind: shell
        command: |
          docker compose up -d api
          docker images --format '{{.Tag}}'
        cwd: deploy
        env: {COMPOSE_PROJECT_NAME: demo, RETRIES: 3}
        expect_exit: 0
        confirm: Restarts the api
        destructive: true
        timeout: 2m
        continue_on_failure: yes
        milestone: mitigated
        role: DevOps Engineer
      - id: features
        title: Drop a feature
        kind: cargo_features
        remove: [advanced_fuel_metering]
      - id: git-tags
        title: Git tags
        kind: git
        action: tags
        pattern: "v*"
        limit: 5
      - id: rollback-tag
        title: Tag
        kind: git
        action: tag
        tag: "rollback-{{previous_tag}}"
        message: "Rollback in {{ env }}"
      - id: tick
        title: Tell the team
        kind: manual
        instructions: Post in the channel.
      - id: gate
        title: Data loss ok?
        kind: confirm
        message: This may lose data.
      - id: logs
        title: Watch logs
        kind: watch
        command: docker compose logs -f api
        duration: 5m
    verification:
      - id: health
        title: Health
        kind: http
        url: http://localhost:5007/health
        expect_json: {database: connected}
        retry_for: 60s
        retry_interval: 2s
        request_timeout: 3s
        milestone: resolved
  - id: db-rollback
    title: Database Rollback
    recovery_window: 10-30 minutes
    steps:
      - {id: look, title: Look, kind: manual}
roles:
  - role: Lead Engineer
    responsibilities: Decide
contacts:
  - {role: Lead Engineer, name: "[NAME]", contact: "[CONTACT]"}
escalation:
  - {level: 1, who: On-call engineer}
alert_thresholds:
  - {metric: API Error Rate, warning: ">1%", critical: ">5%", action: Page}
checklists:
  - id: post-rollback
    title: Post-Rollback Checklist
    items:
      - Verify health
      - text: Collect logs
        group: Root Cause Analysis
templates:
  - id: internal-alert
    title: Internal
    audience: internal
    body: "ROLLBACK ALERT: [Reason]"
reference:
  - {id: prevention, title: Prevention, body: CI first}
"""


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "demo.yaml"
    path.write_text(GOOD, encoding="utf-8")
    return path


def test_good_runbook_loads_every_part(good: Path) -> None:
    rb = load_runbook(good)
    assert (rb.id, rb.title, rb.owner, rb.severity, rb.tags) == (
        "demo",
        "Demo Rollback",
        "platform",
        "high",
        ("docker", "git"),
    )
    assert rb.description == "Roll back the demo service.\n"
    assert rb.path == str(good)
    assert [p.name for p in rb.parameters] == ["previous_tag", "env", "token"]
    tag, env, token = rb.parameters
    assert tag.choices_from is not None and tag.choices_from.source is ParameterSource.DOCKER_TAGS
    assert tag.choices_from.value == "demo-api" and tag.pattern == "^v[0-9.]+$" and tag.example == "v1.0.0"
    assert env.choices == ("staging", "production") and env.default == "staging" and env.required
    assert token.secret and not token.required

    row = rb.decision_matrix.rows[0]
    assert rb.decision_matrix.columns == ("Signal", "Threshold", "Action")
    assert (row.id, row.issue, row.threshold, row.procedure) == (
        "error-rate",
        "Error rate",
        "> 5%",
        "app-rollback",
    )
    assert row.deadline == Window("10 min", None, 600)
    assert row.signal is not None and (row.signal.url, row.signal.expect_status) == (
        "http://localhost:5007/health",
        503,
    )

    app = rb.procedure("app-rollback")
    assert app is not None and app is rb.procedure("1")
    assert (
        app.target_seconds == 300 and app.symptoms == ("High CPU", "Errors") and app.when == "A bad release."
    )
    assert [s.id for s in app.all_steps()] == [
        "state",
        "tags",
        "pin",
        "restart",
        "features",
        "git-tags",
        "rollback-tag",
        "tick",
        "gate",
        "logs",
        "health",
    ]
    db = rb.procedure("db-rollback")
    assert db is not None and db.window is not None and (db.window.low, db.window.high) == (600, 1800)

    assert len(rb.roles) == 1 and rb.contacts[0].name == "[NAME]" and rb.escalation[0].level == 1
    assert rb.alert_thresholds[0].critical == ">5%"
    items = rb.checklists[0].items
    assert [(i.text, i.group) for i in items] == [
        ("Verify health", ""),
        ("Collect logs", "Root Cause Analysis"),
    ]
    assert rb.templates[0].body == "ROLLBACK ALERT: [Reason]" and rb.reference[0].id == "prevention"


def test_every_step_kind_becomes_its_spec(good: Path) -> None:
    steps = {s.id: s for s in load_runbook(good).procedures[0].all_steps()}
    assert steps["state"].spec == DockerSpec(DockerAction.STATE, container="api")
    assert steps["tags"].spec == DockerSpec(DockerAction.TAGS, image="demo-api")
    assert steps["pin"].spec == ComposeImageSpec(service="api", tag="{{previous_tag}}")
    assert steps["pin"].is_edit and steps["features"].is_edit
    restart = steps["restart"]
    assert isinstance(restart.spec, ShellSpec)
    assert restart.spec.command.splitlines() == [
        "docker compose up -d api",
        "docker images --format '{{.Tag}}'",
    ]
    assert restart.spec.cwd == "deploy"
    assert dict(restart.spec.env) == {"COMPOSE_PROJECT_NAME": "demo", "RETRIES": "3"}
    assert isinstance(restart.spec.env, MappingProxyType)  # the model is immutable all the way down
    assert restart.confirm == "Restarts the api" and restart.destructive and restart.continue_on_failure
    assert (
        restart.timeout == 120
        and restart.milestone is Milestone.MITIGATED
        and restart.role == "DevOps Engineer"
    )
    assert steps["features"].spec == CargoFeaturesSpec(remove=("advanced_fuel_metering",))
    assert steps["git-tags"].spec == GitSpec(GitAction.TAGS, pattern="v*", limit=5)
    assert steps["rollback-tag"].spec == GitSpec(
        GitAction.TAG, tag="rollback-{{previous_tag}}", message="Rollback in {{ env }}"
    )
    assert steps["tick"].spec == ManualSpec("Post in the channel.")
    assert steps["gate"].spec == ConfirmSpec("This may lose data.")
    assert steps["logs"].spec == WatchSpec(command="docker compose logs -f api", duration=300)
    health = steps["health"]
    assert isinstance(health.spec, HttpSpec) and health.kind is StepKind.HTTP
    assert (health.spec.expect_status, dict(health.spec.expect_json)) == (200, {"database": "connected"})
    assert (health.spec.retry_for, health.spec.retry_interval, health.spec.request_timeout) == (60, 2, 3)
    assert not steps["tick"].destructive and steps["tick"].timeout is None


def test_locations_are_file_line_column(good: Path) -> None:
    rb = load_runbook(good)
    lines = GOOD.splitlines()

    def line_of(text: str) -> int:
        return next(i for i, line in enumerate(lines, start=1) if line.strip() == text)

    restart = rb.procedures[0].steps[2]
    assert (restart.location.file, restart.location.line, restart.location.column) == (
        str(good),
        line_of("- id: restart"),
        9,
    )
    assert rb.procedures[1].location.line == line_of("- id: db-rollback")
    assert rb.parameters[1].location.line == line_of("- name: env")
    assert rb.decision_matrix.rows[0].location.line == line_of("- id: error-rate")
    assert rb.location.line == 2  # the mapping starts after the comment


def test_line_map_maps_locations_and_problems() -> None:
    rb = load_text(GOOD, "demo.md", line_map=lambda line: line * 10)
    assert rb.procedures[0].location.line % 10 == 0
    assert rb.procedures[0].location.file == "demo.md"
    bad = (
        "runbook: 1\nid: x\ntitle: X\nprocedures:\n  - id: p\n    title: P\n    steps: [{id: s, title: S}]\n"
    )
    with pytest.raises(RunbookLoadError) as info:
        load_text(bad, "x.md", line_map=lambda line: line + 100)
    assert [(p.location.line, p.message) for p in info.value.problems] == [(107, "a step is missing 'kind'")]


def test_go_templates_and_github_expressions_are_not_parameters() -> None:
    text = GOOD.replace("cwd: deploy", "cwd: '${{ github.workspace }}'")
    assert load_text(text, "demo.yaml").procedures[0].steps[2].spec.cwd == "${{ github.workspace }}"  # type: ignore[union-attr]


def test_all_problems_are_reported_at_once() -> None:
    text = GOOD.replace("kind: manual\n        instructions", "kind: manul\n        instructions").replace(
        "duration: 5m", "duration: forever"
    )
    with pytest.raises(RunbookLoadError) as info:
        load_text(text, "demo.yaml")
    messages = [p.message for p in info.value.problems]
    assert len(messages) == 2 and not info.value.unreadable and info.value.exit_code == 1
    assert "unknown step kind 'manul' (did you mean 'manual'?)" in messages[0]
    assert "cannot read 'forever'" in messages[1]


# --- the malformed fixtures in tests/data/invalid --------------------------------


def _expectations(path: Path) -> tuple[list[tuple[int, int, str]], bool]:
    text = path.read_bytes().decode("utf-8", "replace")
    found = [(int(m.group(1)), int(m.group(2)), m.group(3)) for m in EXPECT.finditer(text)]
    return found, "# unreadable" in text


@pytest.mark.parametrize("path", sorted(INVALID.glob("*.yaml")), ids=lambda p: p.name)
def test_malformed_fixture_gives_located_problems(path: Path) -> None:
    expected, unreadable = _expectations(path)
    assert expected, f"{path.name} has no '# expect:' lines"
    result = try_load(path)
    assert result.runbook is None and result.unreadable is unreadable
    got = [(p.location.line, p.location.column, p.message) for p in result.problems]
    assert len(got) == len(expected), "\n".join(f"{line}:{col}: {msg}" for line, col, msg in got)
    for (line, col, message), (want_line, want_col, want) in zip(got, expected, strict=True):
        assert (line, col) == (want_line, want_col) and message.startswith(want), (line, col, message)
    assert all(p.location.file == str(path) for p in result.problems)
    with pytest.raises(RunbookLoadError) as info:
        load_runbook(path)
    assert info.value.exit_code == (2 if unreadable else 1)
    assert check_file(path) == list(result.problems)


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "zero.yaml"
    path.write_bytes(b"")
    assert [str(p) for p in check_file(path)] == [
        f"{path}:1:1: empty file; a runbook starts with 'runbook: 1', 'id:' and 'title:'"
    ]


def test_ten_megabyte_file_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"runbook: 1\n" + b"# padding\n" * (10 * 1024 * 1024 // 10))
    assert path.stat().st_size > MAX_BYTES
    result = try_load(path)
    assert result.unreadable and "larger than 4 MB" in result.problems[0].message


def test_folder_missing_file_and_permission(tmp_path: Path) -> None:
    folder = try_load(tmp_path)
    assert folder.unreadable and "is a folder" in folder.problems[0].message
    missing = try_load(tmp_path / "nope.yaml")
    assert (
        missing.unreadable
        and str(missing.problems[0]) == f"{tmp_path / 'nope.yaml'}: no such file; check the path"
    )


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "locked.yaml"
    path.write_text(GOOD)
    path.chmod(0)
    result = try_load(path)
    assert result.unreadable and "permission denied" in result.problems[0].message


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert load_runbook(path).id == "demo"


def test_alias_bomb_does_not_hang() -> None:
    # 4**20 scalars if expanded; the loader must visit each node once.
    levels = ["x-a: &a [x, x, x, x]"] + [
        f"x-{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]"
        for i in range(20)
    ]
    text = "\n".join(levels) + "\n" + GOOD.replace("        cwd: deploy\n", "        bomb: *u\n")
    started = time.perf_counter()
    with pytest.raises(RunbookLoadError) as info:
        load_text(text, "bomb.yaml")
    assert time.perf_counter() - started < 5
    assert "unknown key 'bomb' in shell step 'restart'" in str(info.value)


def test_bundled_runbooks_load_without_problems() -> None:
    paths = sorted((REPO / "runbooks").glob("*.yaml"))
    assert paths, "no bundled runbooks"
    for path in paths:
        assert check_file(path) == [], path
