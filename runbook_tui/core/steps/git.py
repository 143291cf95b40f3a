"""git steps: list tags by version, verify a tag, create an annotated tag, check a tag out.

git runs as an asyncio subprocess with an argument list (never a shell), so a
tag name is never interpreted; names that git would read as options are
refused before git sees them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from ..errors import RunbookTuiError
from ..model import Step, StepKind
from ..versions import sort_versions
from .base import KindDef, StepContext, StepOutcome, StepRunner

if TYPE_CHECKING:
    from ..loader.nodes import MappedNode, NodeReader


# --- the kind: its spec, keys and reader ----------------------------------------


class GitAction(StrEnum):
    TAGS = "tags"
    VERIFY = "verify"
    TAG = "tag"
    CHECKOUT = "checkout"


@dataclass(frozen=True, slots=True)
class GitSpec:
    """List tags by version, verify a tag, create an annotated tag, or check one out."""

    action: GitAction
    tag: str | None = None
    message: str | None = None
    repo: str | None = None
    pattern: str | None = None
    limit: int | None = None


def read(r: NodeReader, m: MappedNode, what: str) -> GitSpec | None:
    """A git step's keys; every action but ``tags`` needs a ``tag``."""
    action = r.choice(m, "action", what, GitAction)
    if action is None:
        return None
    if action is not GitAction.TAGS and "tag" not in m:
        r.ctx.error(m.node, f"{what} (action {action.value}) is missing 'tag'")
    return GitSpec(
        action=action,
        tag=r.opt_text(m, "tag", what),
        message=r.opt_text(m, "message", what),
        repo=r.opt_text(m, "repo", what),
        pattern=r.opt_text(m, "pattern", what),
        limit=r.integer(m, "limit", what),
    )


def describe(spec: GitSpec) -> str | None:
    """The tag's message when the step gives one (as the screens always showed), else the title."""
    return spec.message


# --- the runner ------------------------------------------------------------------

__all__ = ["GitError", "GitRunner", "list_git_tags"]

_SHOWN_TAGS = 8


class GitError(RunbookTuiError):
    """A git action could not be done; the message says why and what to do."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class _Result:
    code: int
    out: str
    err: str

    @property
    def ok(self) -> bool:
        return self.code == 0


def _env(env: Mapping[str, str] | None) -> dict[str, str]:
    merged = dict(os.environ if env is None else env)
    merged.setdefault("PATH", os.environ.get("PATH", os.defpath))
    # Never wait for a password prompt or a pager; messages in English so they can be shown as is.
    merged.update(GIT_TERMINAL_PROMPT="0", GIT_PAGER="cat", LC_ALL="C")
    return merged


async def _git(repo: Path, env: Mapping[str, str] | None, *args: str) -> _Result:
    import asyncio  # where it is used: loading a runbook imports this module

    try:
        proc = await asyncio.create_subprocess_exec(
            "git",
            "-C",
            str(repo),
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_env(env),
        )
    except FileNotFoundError:
        raise GitError("git is not installed (no git on PATH); install git and retry") from None
    try:
        out, err = await proc.communicate()
    except asyncio.CancelledError:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        raise
    return _Result(proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace").strip())


async def _check_repo(repo: Path, env: Mapping[str, str] | None) -> None:
    if not repo.is_dir():
        raise GitError(f"{repo}: no such folder; set the step's repo: to the repository's folder")
    result = await _git(repo, env, "rev-parse", "--is-inside-work-tree")
    if not result.ok:
        detail = result.err.splitlines()[0] if result.err else f"git exited with {result.code}"
        raise GitError(
            f"{repo} is not a git repository ({detail}); set the step's repo: to the repository's folder"
        )


async def list_git_tags(
    repo: Path, env: Mapping[str, str] | None = None, *, pattern: str | None = None, limit: int | None = None
) -> list[str]:
    """Tags of ``repo`` (matching the glob ``pattern``), newest version first. Raises GitError."""
    await _check_repo(repo, env)
    result = await _git(repo, env, "tag", "--list", *([pattern] if pattern else []))
    if not result.ok:
        raise GitError(f"{repo}: git tag failed: {result.err}")
    tags = sort_versions(line.strip() for line in result.out.splitlines() if line.strip())
    return tags[:limit] if limit else tags


async def _commit_of(repo: Path, env: Mapping[str, str] | None, tag: str) -> str | None:
    result = await _git(repo, env, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}")
    return result.out.strip() if result.ok and result.out.strip() else None


async def _missing_tag(repo: Path, env: Mapping[str, str] | None, tag: str) -> str:
    tags = await list_git_tags(repo, env)
    shown = ", ".join(tags[:_SHOWN_TAGS]) + (" ..." if len(tags) > _SHOWN_TAGS else "")
    return (
        f"tag {tag} does not exist; tags: {shown}"
        if tags
        else f"tag {tag} does not exist; {repo} has no tags"
    )


async def _check_name(repo: Path, env: Mapping[str, str] | None, tag: str) -> None:
    result = await _git(repo, env, "check-ref-format", f"refs/tags/{tag}")
    if tag.startswith("-") or not result.ok:
        raise GitError(f"{tag!r} is not a valid tag name; use letters, digits, '.', '-', '_' and '/'")


def _spec(step: Step) -> GitSpec:
    if not isinstance(step.spec, GitSpec):
        raise TypeError(f"step {step.id} is not a git step")
    return step.spec


def _need_tag(spec: GitSpec) -> str:
    if not spec.tag:
        raise GitError(f"git {spec.action.value} needs a tag: give the step a tag: value")
    return spec.tag


class GitRunner(StepRunner):
    """List tags, verify a tag, create an annotated tag, or check a tag out."""

    kind: ClassVar[StepKind] = StepKind.GIT

    def describe(self, step: Step) -> str:
        spec = _spec(step)
        where = spec.repo or "."
        if spec.action is GitAction.TAGS:
            return f"git tags in {where}" + (f" matching {spec.pattern}" if spec.pattern else "")
        verbs = {
            GitAction.VERIFY: "verify tag",
            GitAction.TAG: "create annotated tag",
            GitAction.CHECKOUT: "check out tag",
        }
        return f"{verbs[spec.action]} {spec.tag} in {where}"

    async def run(self, step: Step, ctx: StepContext) -> StepOutcome:
        spec = _spec(step)
        repo = ctx.workdir / spec.repo if spec.repo else ctx.workdir
        try:
            await _check_repo(repo, ctx.env)
            if spec.action is GitAction.TAGS:
                return await self._tags(repo, spec, ctx)
            if spec.action is GitAction.VERIFY:
                return await self._verify(repo, _need_tag(spec), ctx)
            if spec.action is GitAction.TAG:
                return await self._tag(repo, _need_tag(spec), spec.message, ctx)
            return await self._checkout(repo, _need_tag(spec), ctx)
        except GitError as exc:
            ctx.output(str(exc), "stderr")
            return StepOutcome.failed(str(exc))

    async def _tags(self, repo: Path, spec: GitSpec, ctx: StepContext) -> StepOutcome:
        tags = await list_git_tags(repo, ctx.env, pattern=spec.pattern, limit=spec.limit)
        for tag in tags:
            ctx.output(tag)
        matching = f" matching {spec.pattern}" if spec.pattern else ""
        if not tags:
            return StepOutcome.passed(f"no tags{matching} in {repo}", tags=[])
        return StepOutcome.passed(f"{len(tags)} tags{matching}, newest {tags[0]}", tags=tags)

    async def _verify(self, repo: Path, tag: str, ctx: StepContext) -> StepOutcome:
        commit = await _commit_of(repo, ctx.env, tag)
        if commit is None:
            message = await _missing_tag(repo, ctx.env, tag)
            ctx.output(message, "stderr")
            return StepOutcome.failed(message)
        message = f"tag {tag} exists: commit {commit[:12]}"
        ctx.output(message)
        return StepOutcome.passed(message, tag=tag, commit=commit)

    async def _tag(self, repo: Path, tag: str, message: str | None, ctx: StepContext) -> StepOutcome:
        await _check_name(repo, ctx.env, tag)
        existing = await _commit_of(repo, ctx.env, tag)
        if existing is not None:
            raise GitError(
                f"tag {tag} already exists (commit {existing[:12]}); not overwriting it. "
                "Choose another name, or delete it yourself with git tag -d"
            )
        result = await _git(
            repo, ctx.env, "tag", "--annotate", "--message", message or f"Rollback tag {tag}", tag
        )
        if not result.ok:
            raise GitError(f"git tag {tag} failed: {result.err}")
        commit = await _commit_of(repo, ctx.env, tag) or ""
        text = f"created annotated tag {tag} at commit {commit[:12]}"
        ctx.output(text)
        return StepOutcome.passed(text, tag=tag, commit=commit)

    async def _checkout(self, repo: Path, tag: str, ctx: StepContext) -> StepOutcome:
        commit = await _commit_of(repo, ctx.env, tag)
        if commit is None:
            raise GitError(await _missing_tag(repo, ctx.env, tag))
        status = await _git(repo, ctx.env, "status", "--porcelain", "--untracked-files=no")
        changed = [line for line in status.out.splitlines() if line.strip()]
        if not status.ok or changed:
            listed = ", ".join(line.strip() for line in changed[:5]) + (" ..." if len(changed) > 5 else "")
            raise GitError(
                f"the work tree at {repo} has uncommitted changes ({listed or status.err}); "
                "commit or stash them first, then run the step again"
            )
        result = await _git(
            repo, ctx.env, "-c", "advice.detachedHead=false", "checkout", "--quiet", f"refs/tags/{tag}"
        )
        if not result.ok:
            raise GitError(f"git checkout {tag} failed: {result.err}")
        text = f"checked out tag {tag} (commit {commit[:12]}, detached HEAD)"
        ctx.output(text)
        return StepOutcome.passed(text, tag=tag, commit=commit)


KIND = KindDef(
    spec=GitSpec,
    keys=frozenset({"action", "tag", "message", "repo", "pattern", "limit"}),
    required=("action",),
    read=read,
    describe=describe,
    runner=GitRunner,
)
