"""Version sorting for tags: semver-ish, natural, newest first.

``v1.10.0`` is newer than ``v1.9.2``; ``1.0.0-rc.2`` is older than ``1.0.0``;
prefixes such as ``v`` or ``release-`` do not hide the numbers. Tags with no
number at all sort after every versioned tag, alphabetically.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["natural_key", "sort_versions", "version_key"]

_VERSION = re.compile(
    r"""^(?P<prefix>[^\d]*?)
        (?P<core>\d+(?:\.\d+)*)
        (?:[-_.~]?(?P<pre>[0-9A-Za-z][0-9A-Za-z.\-_]*?))?
        (?:\+(?P<build>.*))?$""",
    re.VERBOSE,
)
_CHUNK = re.compile(r"\d+|[A-Za-z]+")
_CORE_WIDTH = 6


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Split ``text`` into numbers (compared as numbers) and words (compared as words)."""
    return tuple((0, int(c)) if c.isdigit() else (1, c.lower()) for c in _CHUNK.findall(text))


def version_key(tag: str) -> tuple[Any, ...]:
    """A sort key: larger is newer. Unversioned tags are smaller than versioned ones."""
    match = _VERSION.match(tag)
    if match is None:
        return (0, (), (), "", tag)
    numbers = tuple(int(n) for n in match["core"].split("."))
    core = numbers[:_CORE_WIDTH] + (0,) * max(0, _CORE_WIDTH - len(numbers))
    pre = match["pre"]
    # A release is newer than any of its pre-releases (semver), so "no pre" ranks highest.
    release = (1,) if not pre else (0, *natural_key(pre))
    return (1, core, release, match["prefix"], tag)


def sort_versions(tags: Iterable[str], *, newest_first: bool = True) -> list[str]:
    """Versioned tags newest first (or oldest first), then unversioned ones alphabetically."""
    unique = list(dict.fromkeys(tags))
    versioned = sorted((t for t in unique if version_key(t)[0]), key=version_key, reverse=newest_first)
    others = sorted((t for t in unique if not version_key(t)[0]), key=natural_key)
    return versioned + others
