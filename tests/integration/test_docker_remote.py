"""docker steps against a Docker Engine over ssh:// (issue 16), to a loopback sshd host.

The SDK runs the system ``ssh`` (``use_ssh_client=True``), which takes its identity and
known hosts from the user's ssh config. The test's user is the real one, so an ``ssh``
first on PATH adds ``-F`` with the test's config (the loopback sshd's key, no known
hosts): the real ssh client, the real sshd, the real engine, and on the far side
``docker system dial-stdio``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

# The docker step tests' fixtures (images built here, a running container), used by name.
from helpers.docker import REPO, run_docker_step

from runbook_tui.core.events import StepStatus
from runbook_tui.core.model import DockerAction, DockerSpec, Step, StepKind
from runbook_tui.core.steps.docker import DockerRunner, list_image_tags

pytestmark = [pytest.mark.docker, pytest.mark.timeout(120), pytest.mark.xdist_group("docker-images")]
REMOTE = "ssh://root@127.0.0.2:2222"


@pytest.fixture
def ssh_config(tmp_path: Path, fleet_inventory: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's ssh config, as the SDK's ``ssh`` reads it: the loopback host's key."""
    key = fleet_inventory.parent / "id"
    config = tmp_path / "ssh_config"
    config.write_text(
        "Host 127.0.0.*\n"
        f"  IdentityFile {key}\n  IdentitiesOnly yes\n"
        "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
    )
    config.chmod(0o600)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec /usr/bin/ssh -F {config} "$@"\n')
    wrapper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    return config


@pytest.mark.slow
async def test_tags_and_state_over_ssh(tmp_path: Path, ssh_config: Path, images: list[Any]) -> None:
    outcome, ctx = await run_docker_step(tmp_path, DockerAction.TAGS, image=REPO, docker_host=REMOTE)
    assert outcome.status is StepStatus.PASSED, outcome.message
    assert outcome.data["tags"][:2] == ["1.1.0", "1.0.0"]
    assert outcome.data["docker_host"] == REMOTE
    assert ("info", f"Docker Engine at {REMOTE}") in ctx.lines  # the journal names the engine
    assert list_image_tags(REPO, docker_host=REMOTE)[:2] == ["1.1.0", "1.0.0"]


async def test_a_containers_state_over_ssh(
    tmp_path: Path, ssh_config: Path, container: tuple[Any, int]
) -> None:
    created, _port = container
    outcome, _ = await run_docker_step(
        tmp_path, DockerAction.STATE, container=created.name, docker_host=REMOTE
    )
    assert outcome.status is StepStatus.PASSED, outcome.message
    assert outcome.message.startswith(f"{created.name} is running")


@pytest.mark.slow
async def test_docker_host_from_the_environment(tmp_path: Path, ssh_config: Path, images: list[Any]) -> None:
    env = {**os.environ, "DOCKER_HOST": REMOTE}
    outcome, ctx = await run_docker_step(tmp_path, DockerAction.TAGS, env, image=REPO)
    assert outcome.status is StepStatus.PASSED, outcome.message
    assert ("info", f"Docker Engine at {REMOTE}") in ctx.lines


async def test_an_unreachable_host_is_a_clear_failed_step(tmp_path: Path, ssh_config: Path) -> None:
    nowhere = "ssh://root@127.0.0.2:2299"  # no sshd on this port
    outcome, ctx = await run_docker_step(tmp_path, DockerAction.TAGS, image=REPO, docker_host=nowhere)
    assert outcome.status is StepStatus.FAILED
    assert outcome.message.startswith(f"cannot reach the Docker Engine at {nowhere}: ")
    assert "ssh" in outcome.message and "Traceback" not in outcome.message
    assert ("stderr", outcome.message) in ctx.lines


def test_the_step_names_its_engine() -> None:
    spec = DockerSpec(action=DockerAction.STATE, container="api", docker_host=REMOTE)
    step = Step(id="d", title="docker", kind=StepKind.DOCKER, spec=spec)
    assert DockerRunner().describe(step) == f"docker: state of container api on {REMOTE}"


def test_choices_from_docker_tags_takes_a_docker_host(tmp_path: Path) -> None:
    from runbook_tui.core.loader import load_runbook

    path = tmp_path / "rb.yaml"
    path.write_text(
        "runbook: 1\nid: rb\ntitle: RB\nparameters:\n  - name: tag\n    description: Tag\n"
        f"    choices_from: {{docker_tags: {REPO}, docker_host: '{REMOTE}'}}\n"
        "procedures:\n  - id: main\n    title: Main\n    steps:\n"
        "      - {id: s, title: State, kind: docker, action: state, container: api,"
        f" docker_host: '{REMOTE}'}}\n"
    )
    runbook = load_runbook(path)
    source = runbook.parameters[0].choices_from
    assert source is not None and source.docker_host == REMOTE
    spec = runbook.procedures[0].steps[0].spec
    assert isinstance(spec, DockerSpec) and spec.docker_host == REMOTE


def test_a_docker_host_that_is_not_an_address_is_a_located_problem(tmp_path: Path) -> None:
    from runbook_tui.core.errors import RunbookLoadError
    from runbook_tui.core.loader import load_runbook

    path = tmp_path / "rb.yaml"
    path.write_text(
        "runbook: 1\nid: rb\ntitle: RB\nprocedures:\n  - id: main\n    title: Main\n    steps:\n"
        "      - {id: s, title: State, kind: docker, action: state, container: api, docker_host: web1}\n"
    )
    with pytest.raises(RunbookLoadError) as caught:
        load_runbook(path)
    assert "docker_host 'web1' is not an engine address; write ssh://user@host[:port]" in str(caught.value)
    assert "rb.yaml" in str(caught.value)
