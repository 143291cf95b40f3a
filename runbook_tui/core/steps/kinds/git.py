"""The ``git`` step kind: list tags by version, verify a tag, create an annotated tag, check one out.

Its runner is ``core/steps/git.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from . import KindDef

if TYPE_CHECKING:
    from ...loader.nodes import MappedNode, NodeReader


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


KIND = KindDef(
    name="git",
    spec=GitSpec,
    keys=frozenset({"action", "tag", "message", "repo", "pattern", "limit"}),
    required=("action",),
    read=read,
    describe=describe,
    runner=("git", "GitRunner"),
)
