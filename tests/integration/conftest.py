"""Fixtures of the integration tests: the test images and a running container on the real Docker Engine."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from helpers.docker import REPO
from helpers.images import build_test_image, free_port, run_test_container


@pytest.fixture(scope="module")
def images(docker_client: Any) -> list[Any]:
    """Two releases of a test repository, built oldest first (1.0.0 then 1.1.0)."""
    return [build_test_image(docker_client, [f"{REPO}:{v}"], version=v) for v in ("1.0.0", "1.1.0")]


@pytest.fixture
def container(docker_client: Any, images: list[Any]) -> Iterator[tuple[Any, int]]:
    port = free_port()
    name = f"rbt-test-{uuid.uuid4().hex[:8]}"
    created = run_test_container(docker_client, f"{REPO}:1.1.0", name, port)
    try:
        yield created, port
    finally:
        created.remove(force=True)
