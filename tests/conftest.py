"""Shared fixtures: an isolated data/config dir per test, and the real Docker Engine.

Layout (see tests/README.md): ``unit/`` pure core, ``integration/`` real components,
``ui/`` the app through Pilot, snapshots and tmux, ``scale/`` the big ones (all marked ``slow``
here). Shared code is in ``helpers/``; fixtures are in the conftest.py of the folder that uses them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

IN_CI = bool(os.environ.get("CI"))
SCALE_DIR = Path(__file__).resolve().parent / "scale"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data, config and cache folders and tmux server: no test sees another's."""
    root = tmp_path_factory.mktemp("rbt-home")
    monkeypatch.setenv("RUNBOOK_TUI_DATA_DIR", str(root / "data"))
    monkeypatch.setenv("RUNBOOK_TUI_CONFIG_DIR", str(root / "config"))
    monkeypatch.setenv("RUNBOOK_TUI_CACHE_DIR", str(root / "cache"))
    # A tmux server of its own: on the shared default server, a session started while another
    # test's last session ends (another xdist worker) can meet the server on its way out.
    (root / "tmux").mkdir()
    monkeypatch.setenv("TMUX_TMPDIR", str(root / "tmux"))
    monkeypatch.delenv("RUNBOOK_TUI_CONFIG", raising=False)
    monkeypatch.delenv("RUNBOOK_TUI_RUNBOOKS", raising=False)
    monkeypatch.delenv("RUNBOOK_TUI_SESSIONS_DIR", raising=False)
    return root


def _engine_or_skip() -> Any:
    """A connected docker client; skip when none is reachable, but never in CI."""
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=10)
        client.ping()
    except DockerException as exc:
        if IN_CI:
            pytest.fail(f"CI must have a Docker Engine, but none answered: {exc}")
        pytest.skip(f"no Docker Engine reachable: {exc}")
    return client


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """The real Docker Engine (docker SDK client)."""
    client = _engine_or_skip()
    yield client
    client.close()


@pytest.fixture(scope="session")
def fleet_inventory() -> Path:
    """The inventory of the three loopback ssh hosts (web1..web3); skips outside CI without sshd."""
    from helpers.fleet import inventory_path, sshd_problem

    problem = sshd_problem()
    if problem is not None:
        if IN_CI:
            pytest.fail(f"CI must have sshd on 127.0.0.2-4:2222 (components.sh sshd-start): {problem}")
        pytest.skip(f"fleet tests need the loopback sshd: {problem}")
    return inventory_path()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Everything in scale/ is slow; docker-marked tests skip outside CI when no engine answers."""
    for item in items:
        if SCALE_DIR in item.path.parents:
            item.add_marker(pytest.mark.slow)
    if IN_CI or not any(item.get_closest_marker("docker") for item in items):
        return
    import docker
    from docker.errors import DockerException

    try:
        docker.from_env(timeout=5).ping()
    except DockerException:
        skip = pytest.mark.skip(reason="no Docker Engine reachable (CI is not set)")
        for item in items:
            if item.get_closest_marker("docker"):
                item.add_marker(skip)
