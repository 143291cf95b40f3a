"""The step kinds, found by looking: every module of ``core/steps/`` that defines ``KIND``.

A kind is one module, ``core/steps/<kind>.py``: its spec, keys, reader and
description (the :class:`~.base.KindDef` named ``KIND``) and its runner. The
module's name is the kind's name, the ``kind:`` a runbook writes. Nothing else
lists the kinds: the loader asks here which keys a kind takes and how to read
them, the screens ask how to describe a step, the engine asks for a runner.

Order: the built-in kinds in :data:`~..model.BUILT_IN_KINDS`'s order (the loader's
messages list kinds, and the kinds that own a key, in it), then any other kind
module by name. Kind modules import their heavy libraries (docker, httpx,
tomlkit, ansible-runner) inside the runner, so finding the kinds costs no more
than reading their specs.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from ..errors import RunbookTuiError
from ..model import BUILT_IN_KINDS, Step, StepKind
from .base import KindDef

if TYPE_CHECKING:
    from .base import StepRunner

_PACKAGE = __package__ or "runbook_tui.core.steps"


def discover() -> dict[StepKind, KindDef]:
    """The kind modules of this package (its ``__path__``), in the registry's order.

    A module is a kind when it defines ``KIND``, a :class:`KindDef`; others (``base``,
    this one) are skipped, as are private modules (``_name``).
    """
    here = __name__.rpartition(".")[2]
    found: dict[StepKind, KindDef] = {}
    for info in pkgutil.iter_modules(importlib.import_module(_PACKAGE).__path__):
        if info.name.startswith("_") or info.name == here:
            continue
        definition = getattr(importlib.import_module(f"{_PACKAGE}.{info.name}"), "KIND", None)
        if isinstance(definition, KindDef):
            found[StepKind(info.name)] = definition
    built_in = {kind: place for place, kind in enumerate(BUILT_IN_KINDS)}
    return dict(sorted(found.items(), key=lambda item: (built_in.get(item[0], len(built_in)), item[0])))


KINDS: Mapping[StepKind, KindDef] = MappingProxyType(discover())
# What builds each kind's runner (the kind's KindDef.runner); manual and confirm have none.
_RUNNERS: dict[StepKind, Callable[[], StepRunner]] = {
    kind: definition.runner for kind, definition in KINDS.items() if definition.runner is not None
}
_cache: dict[StepKind, StepRunner] = {}


class StepKindUnavailable(RunbookTuiError):
    """A step kind has no runner in this build (or the engine handles it itself)."""

    exit_code = 1


def kind_of(kind: StepKind) -> KindDef:
    """The definition of ``kind``: its spec, keys, reader and description."""
    return KINDS[kind]


def describe(step: Step) -> str:
    """What the step will do, as written (placeholders unfilled): its command, URL, ... or its title."""
    text = KINDS[step.kind].describe(step.spec)
    return step.title if text is None else text


def runner_for(kind: StepKind) -> StepRunner:
    """The runner for ``kind``; a kind whose runner is missing fails only its own steps."""
    runner = _cache.get(kind)
    if runner is not None:
        return runner
    if kind not in _RUNNERS:
        raise StepKindUnavailable(f"{kind.value} steps are handled by the engine, not a runner")
    try:
        runner = _RUNNERS[kind]()
    except ImportError as exc:  # a library the runner needs is not installed
        raise StepKindUnavailable(f"{kind.value} steps cannot run in this build: {exc}") from exc
    _cache[kind] = runner
    return runner


def runner_for_step(step: Step) -> StepRunner:
    """The runner for ``step``: a shell step with ``targets`` runs on a fleet through Ansible."""
    if step.fleet is not None and step.kind is StepKind.SHELL:
        from ..fleet import FleetShellRunner

        return FleetShellRunner()
    return runner_for(step.kind)
