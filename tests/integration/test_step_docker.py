"""docker steps against the real Docker Engine: images built here, containers on the host network."""

from __future__ import annotations

import asyncio
import os
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from helpers.docker import REPO, run_docker_step
from helpers.images import build_test_image, free_port, run_test_container

from runbook_tui.core.events import StepStatus
from runbook_tui.core.model import DockerAction
from runbook_tui.core.steps.docker import DockerStepError, DockerUnavailable, list_image_tags

# One worker at a time under xdist (tests/README.md, 'Running in parallel').
pytestmark = pytest.mark.xdist_group("docker-images")

# --- no engine: no Docker needed --------------------------------------------------------------


async def test_no_engine_is_a_clear_failed_outcome(tmp_path: Path) -> None:
    sock = tmp_path / "nothing-here.sock"
    env = {**os.environ, "DOCKER_HOST": f"unix://{sock}"}
    env.pop("DOCKER_API_VERSION", None)
    for action, spec in ((DockerAction.TAGS, {"image": "api"}), (DockerAction.STATE, {"container": "api"})):
        outcome, ctx = await run_docker_step(tmp_path, action, env, **spec)
        assert outcome.status is StepStatus.FAILED
        assert outcome.message == (
            f"cannot reach the Docker Engine at unix://{sock}: no such socket — is dockerd running?"
        )
        assert ("stderr", outcome.message) in ctx.lines
    with pytest.raises(DockerUnavailable, match="is dockerd running"):
        list_image_tags("api", env)


async def test_missing_image_or_container_value(tmp_path: Path) -> None:
    outcome, _ = await run_docker_step(tmp_path, DockerAction.TAGS)
    assert outcome.status is StepStatus.FAILED and "needs an image:" in outcome.message
    outcome, _ = await run_docker_step(tmp_path, DockerAction.LOGS)
    assert outcome.status is StepStatus.FAILED and "needs a container:" in outcome.message


# --- the real engine --------------------------------------------------------------------------


@pytest.mark.docker
async def test_tags_newest_first_from_real_images(tmp_path: Path, images: list[Any]) -> None:
    outcome, ctx = await run_docker_step(tmp_path, DockerAction.TAGS, image=REPO)
    assert outcome.status is StepStatus.PASSED, outcome.message
    assert outcome.data["tags"][:2] == ["1.1.0", "1.0.0"]
    newest = outcome.data["images"][0]
    assert newest["id"] == images[1].id.removeprefix("sha256:")[:12]
    assert ctx.lines[0][1].startswith("1.1.0  ") and ctx.lines[0][1].endswith(newest["id"])
    assert " UTC " in ctx.lines[0][1]
    assert list_image_tags(REPO)[:2] == ["1.1.0", "1.0.0"]


@pytest.mark.docker
async def test_unknown_repository_lists_what_exists(tmp_path: Path, images: list[Any]) -> None:
    outcome, _ = await run_docker_step(tmp_path, DockerAction.TAGS, image="rbt-test-no-such-repo")
    assert outcome.status is StepStatus.FAILED
    assert "no local images of repository 'rbt-test-no-such-repo'; repositories:" in outcome.message
    with pytest.raises(DockerStepError):
        list_image_tags("rbt-test-no-such-repo")


@pytest.mark.docker
async def test_state_of_a_running_container(tmp_path: Path, container: tuple[Any, int]) -> None:
    created, _port = container
    outcome, _ = await run_docker_step(tmp_path, DockerAction.STATE, container=created.name)
    assert outcome.status is StepStatus.PASSED, outcome.message
    assert outcome.data["status"] == "running" and outcome.data["image"] == f"{REPO}:1.1.0"
    assert outcome.data["restart_count"] == 0
    assert outcome.message == f"{created.name} is running, image {REPO}:1.1.0, 0 restarts"


@pytest.mark.docker
async def test_state_of_a_stopped_container_fails(tmp_path: Path, container: tuple[Any, int]) -> None:
    created, _port = container
    created.stop(timeout=1)
    outcome, ctx = await run_docker_step(tmp_path, DockerAction.STATE, container=created.name)
    assert outcome.status is StepStatus.FAILED and outcome.data["status"] == "exited"
    assert ctx.lines[-1][0] == "stderr"


@pytest.mark.docker
async def test_unknown_container_lists_what_exists(tmp_path: Path, container: tuple[Any, int]) -> None:
    created, _port = container
    outcome, _ = await run_docker_step(tmp_path, DockerAction.STATE, container="rbt-no-such-container")
    assert outcome.status is StepStatus.FAILED
    assert "no container 'rbt-no-such-container'; containers:" in outcome.message
    assert f"{created.name} (running)" in outcome.message


@pytest.mark.docker
async def test_restart_starts_the_container_again(tmp_path: Path, container: tuple[Any, int]) -> None:
    created, port = container
    created.reload()
    started = created.attrs["State"]["StartedAt"]
    outcome, _ = await run_docker_step(tmp_path, DockerAction.RESTART, container=created.name)
    assert outcome.status is StepStatus.PASSED, outcome.message
    assert outcome.message.startswith("restarted: ")
    assert outcome.data["started_at"] != started
    # It serves again on its port after the restart.
    deadline = time.monotonic() + 10
    while True:
        try:
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/version", timeout=1).read()
            break
        except (urllib.error.URLError, OSError):
            assert time.monotonic() < deadline, "the container did not serve again after the restart"
            await asyncio.sleep(0.1)
    assert body == b"1.1.0\n"


@pytest.mark.docker
async def test_logs_stream_both_streams_in_order(tmp_path: Path, container: tuple[Any, int]) -> None:
    created, port = container
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/no-such-page", timeout=2)
    assert err.value.code == 404
    deadline = time.monotonic() + 10
    while True:
        outcome, ctx = await run_docker_step(
            tmp_path, DockerAction.LOGS, container=created.name, since=300.0, tail=50
        )
        if any("no-such-page" in text for _, text in ctx.lines) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.1)
    assert outcome.status is StepStatus.PASSED, outcome.message
    assert ctx.lines[0] == ("stdout", f"rbt-test 1.1.0 listening on {port}")
    assert any(stream == "stderr" and "url:/no-such-page" in text for stream, text in ctx.lines)
    assert outcome.data["lines"] == len(ctx.lines)
    outcome, ctx = await run_docker_step(tmp_path, DockerAction.LOGS, container=created.name, tail=1)
    assert len(ctx.lines) == 1 and ctx.lines[0][0] == "stderr"


@pytest.mark.docker
async def test_health_cgi_answers_with_the_built_status(docker_client: Any) -> None:
    """The test image's /cgi-bin/health returns the status it was built with (for drills)."""
    build_test_image(docker_client, ["rbt-test-unhealthy:1.0.0"], health_status=503)
    port = free_port()
    created = run_test_container(
        docker_client, "rbt-test-unhealthy:1.0.0", f"rbt-test-{uuid.uuid4().hex[:8]}", port
    )
    try:
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/cgi-bin/health", timeout=5)
        assert err.value.code == 503
        assert b'"database": "disconnected"' in err.value.read()
    finally:
        created.remove(force=True)


@pytest.mark.docker
def test_building_again_is_quick_and_reuses_the_image(docker_client: Any, images: list[Any]) -> None:
    started = time.monotonic()
    again = build_test_image(docker_client, [f"{REPO}:1.0.0"], version="1.0.0")
    assert again.id == images[0].id
    assert time.monotonic() - started < 2


@pytest.mark.docker
@pytest.mark.parametrize(
    ("status", "health", "result"), [(200, "healthy", "passed"), (503, "unhealthy", "failed")]
)
async def test_state_reports_health(
    tmp_path: Path, docker_client: Any, status: int, health: str, result: str
) -> None:
    tag = f"rbt-test-health:{status}"
    build_test_image(docker_client, [tag], health_status=status, healthcheck=True)
    port = free_port()
    created = run_test_container(docker_client, tag, f"rbt-test-{uuid.uuid4().hex[:8]}", port)
    try:
        deadline = time.monotonic() + 15
        while True:
            outcome, _ = await run_docker_step(tmp_path, DockerAction.STATE, container=created.name)
            if outcome.data.get("health") != "starting" or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert outcome.data["health"] == health
        assert outcome.status.value == result
        assert f"is running ({health})" in outcome.message
    finally:
        created.remove(force=True)
