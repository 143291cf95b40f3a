"""git steps against real repositories in tmp_path; version sorting."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from runbook_tui.core.events import StepStatus
from runbook_tui.core.model import GitAction, GitSpec, Step, StepKind
from runbook_tui.core.steps.git import GitError, GitRunner, list_git_tags
from runbook_tui.core.versions import sort_versions

IDENTITY = {
    "GIT_AUTHOR_NAME": "On Call",
    "GIT_AUTHOR_EMAIL": "oncall@example.invalid",
    "GIT_COMMITTER_NAME": "On Call",
    "GIT_COMMITTER_EMAIL": "oncall@example.invalid",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


@dataclass
class Ctx:
    workdir: Path
    backup_dir: Path
    env: Mapping[str, str] = field(default_factory=lambda: {**os.environ, **IDENTITY})
    drill: bool = False
    lines: list[tuple[str, str]] = field(default_factory=list)

    def output(self, text: str, stream: str = "stdout") -> None:
        self.lines.append((stream, text))


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, **IDENTITY}
    result = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True
    )
    return result.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with a commit per release, each tagged (annotated and lightweight)."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "--quiet", "--initial-branch=main")
    for version in ["v1.0.0-rc.1", "v1.0.0", "v1.2.0", "v1.10.0", "v1.9.2"]:
        (path / "VERSION").write_text(version + "\n")
        git(path, "add", "VERSION")
        git(path, "commit", "--quiet", "-m", f"release {version}")
        if version.endswith("0"):
            git(path, "tag", "-a", version, "-m", f"Release {version}")
        else:
            git(path, "tag", version)
    git(path, "tag", "nightly")
    return path


def _step(action: GitAction, **spec: Any) -> Step:
    return Step(id="git", title="git", kind=StepKind.GIT, spec=GitSpec(action=action, **spec))


async def _run(workdir: Path, action: GitAction, **spec: Any) -> tuple[Any, Ctx]:
    ctx = Ctx(workdir=workdir, backup_dir=workdir.parent / "b")
    outcome = await GitRunner().run(_step(action, **spec), ctx)
    return outcome, ctx


def test_sort_versions_is_semverish_and_natural() -> None:
    tags = ["v1.0.0", "v1.10.0", "v1.9.2", "v1.0.0-rc.1", "v1.0.0-rc.10", "v1.0.0-rc.2", "nightly", "v2"]
    assert sort_versions(tags) == [
        "v2",
        "v1.10.0",
        "v1.9.2",
        "v1.0.0",
        "v1.0.0-rc.10",
        "v1.0.0-rc.2",
        "v1.0.0-rc.1",
        "nightly",
    ]
    assert sort_versions(["1.2", "1.10", "1.3"], newest_first=False) == ["1.2", "1.3", "1.10"]
    assert sort_versions(["main", "build10", "build9", "latest"]) == ["build10", "build9", "latest", "main"]
    assert sort_versions(["v1.0.0+build.5", "1.0.0-1", "v1.0.1"]) == ["v1.0.1", "v1.0.0+build.5", "1.0.0-1"]


async def test_tags_newest_first_with_pattern_and_limit(repo: Path) -> None:
    outcome, ctx = await _run(repo, GitAction.TAGS)
    assert outcome.status is StepStatus.PASSED
    assert outcome.data["tags"] == ["v1.10.0", "v1.9.2", "v1.2.0", "v1.0.0", "v1.0.0-rc.1", "nightly"]
    assert [text for _, text in ctx.lines] == outcome.data["tags"]
    outcome, _ = await _run(repo, GitAction.TAGS, pattern="v1.*", limit=2)
    assert outcome.data["tags"] == ["v1.10.0", "v1.9.2"]
    outcome, _ = await _run(repo, GitAction.TAGS, pattern="x*")
    assert outcome.status is StepStatus.PASSED and outcome.data["tags"] == []


async def test_list_git_tags_for_parameter_choices(repo: Path) -> None:
    assert (await list_git_tags(repo, pattern="v1.1*")) == ["v1.10.0"]
    with pytest.raises(GitError, match="not a git repository"):
        await list_git_tags(repo.parent)


async def test_verify_existing_and_missing_tags(repo: Path) -> None:
    outcome, _ = await _run(repo, GitAction.VERIFY, tag="v1.9.2")
    assert outcome.status is StepStatus.PASSED
    assert outcome.data["commit"] == git(repo, "rev-parse", "v1.9.2^{commit}")
    outcome, ctx = await _run(repo, GitAction.VERIFY, tag="v9")
    assert outcome.status is StepStatus.FAILED
    assert (
        outcome.message
        == "tag v9 does not exist; tags: v1.10.0, v1.9.2, v1.2.0, v1.0.0, v1.0.0-rc.1, nightly"
    )
    assert ("stderr", outcome.message) in ctx.lines


async def test_verify_a_branch_name_is_not_a_tag(repo: Path) -> None:
    outcome, _ = await _run(repo, GitAction.VERIFY, tag="main")
    assert outcome.status is StepStatus.FAILED and "tag main does not exist" in outcome.message


async def test_create_an_annotated_tag_and_refuse_to_overwrite(repo: Path) -> None:
    outcome, _ = await _run(repo, GitAction.TAG, tag="rollback-v1.9.2", message="Rollback to v1.9.2")
    assert outcome.status is StepStatus.PASSED, outcome.message
    assert git(repo, "cat-file", "-t", "rollback-v1.9.2") == "tag"  # annotated, not lightweight
    assert git(repo, "tag", "-l", "--format=%(contents:subject)", "rollback-v1.9.2") == "Rollback to v1.9.2"
    assert outcome.data["commit"] == git(repo, "rev-parse", "HEAD")
    again, _ = await _run(repo, GitAction.TAG, tag="rollback-v1.9.2", message="other")
    assert again.status is StepStatus.FAILED and "already exists" in again.message
    assert git(repo, "tag", "-l", "--format=%(contents:subject)", "rollback-v1.9.2") == "Rollback to v1.9.2"


@pytest.mark.parametrize("name", ["-d", "bad..name", "has space", "v1; rm -rf ~"])
async def test_tag_names_git_would_misread_are_refused(repo: Path, name: str) -> None:
    before = git(repo, "tag", "-l")
    outcome, _ = await _run(repo, GitAction.TAG, tag=name, message="x")
    assert outcome.status is StepStatus.FAILED and "not a valid tag name" in outcome.message
    assert git(repo, "tag", "-l") == before


async def test_tag_without_an_identity_is_a_clear_failure(repo: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1", EMAIL="", HOME=str(tmp_path))
    ctx = Ctx(workdir=repo, backup_dir=tmp_path / "b", env=env)
    outcome = await GitRunner().run(_step(GitAction.TAG, tag="r1", message="m"), ctx)
    if outcome.status is StepStatus.PASSED:
        pytest.skip("git found an identity from the host name")
    assert "git tag r1 failed" in outcome.message


async def test_checkout_a_tag_and_refuse_a_dirty_tree(repo: Path) -> None:
    outcome, _ = await _run(repo, GitAction.CHECKOUT, tag="v1.0.0")
    assert outcome.status is StepStatus.PASSED, outcome.message
    assert (repo / "VERSION").read_text() == "v1.0.0\n"
    assert git(repo, "rev-parse", "HEAD") == git(repo, "rev-parse", "v1.0.0^{commit}")
    (repo / "VERSION").write_text("local change\n")
    outcome, _ = await _run(repo, GitAction.CHECKOUT, tag="v1.9.2")
    assert outcome.status is StepStatus.FAILED
    assert "uncommitted changes (M VERSION)" in outcome.message and "commit or stash" in outcome.message
    assert (repo / "VERSION").read_text() == "local change\n"
    outcome, _ = await _run(repo, GitAction.CHECKOUT, tag="v7")
    assert outcome.status is StepStatus.FAILED and "tag v7 does not exist" in outcome.message


async def test_not_a_repository_and_missing_folder(tmp_path: Path) -> None:
    outcome, _ = await _run(tmp_path, GitAction.TAGS)
    assert outcome.status is StepStatus.FAILED and "is not a git repository" in outcome.message
    outcome, _ = await _run(tmp_path, GitAction.VERIFY, tag="v1", repo="nope")
    assert outcome.status is StepStatus.FAILED and "no such folder" in outcome.message


async def test_missing_tag_value_is_a_clear_failure(repo: Path) -> None:
    outcome, _ = await _run(repo, GitAction.VERIFY)
    assert outcome.status is StepStatus.FAILED and "needs a tag" in outcome.message


async def test_git_runs_without_blocking_the_event_loop(repo: Path) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.001)

    task = asyncio.create_task(ticker())
    for _ in range(5):
        await _run(repo, GitAction.TAGS)
    task.cancel()
    assert ticks > 5
