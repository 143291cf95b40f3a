"""A package's public names, imported from their own modules the first time they are asked for.

The journal and engine packages re-export their names (``from runbook_tui.core.journal
import Journal``) without importing every module up front: start-up reads journals and
shows the clock, and must not build the event classes that the rest needs
(tests/integration/test_import_hygiene.py).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping


def lazy_getattr(
    package: str, homes: Mapping[str, str], namespace: MutableMapping[str, object]
) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package``: ``homes`` maps each public name to its module."""

    def __getattr__(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{home}"), name)
        namespace[name] = value  # once: later lookups find it without coming here
        return value

    return __getattr__
