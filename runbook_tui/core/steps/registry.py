"""The step kinds: what each one is (``kinds/<kind>.py``) and which runner runs it.

The loader asks here which keys a kind takes and how to read them; the screens ask
how to describe a step. Runner modules are imported only when their kind runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from ..errors import RunbookTuiError
from ..model import Step, StepKind
from .kinds import (
    KindDef,
    ansible,
    cargo_features,
    compose_image,
    confirm,
    docker,
    git,
    http,
    manual,
    shell,
    watch,
)

if TYPE_CHECKING:
    from .base import StepRunner

# In StepKind's order: the loader's messages list kinds (and the kinds that own a key) in it.
KINDS: Mapping[StepKind, KindDef] = MappingProxyType(
    {
        StepKind(module.KIND.name): module.KIND
        for module in (
            shell,
            http,
            docker,
            cargo_features,
            compose_image,
            git,
            manual,
            confirm,
            watch,
            ansible,
        )
    }
)
# Which module (under core/steps/) and class run each kind; manual and confirm have none.
_RUNNERS: dict[StepKind, tuple[str, str]] = {
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
    """The runner for ``kind``; a kind whose module is missing fails only its own steps."""
    runner = _cache.get(kind)
    if runner is not None:
        return runner
    if kind not in _RUNNERS:
        raise StepKindUnavailable(f"{kind.value} steps are handled by the engine, not a runner")
    module_name, class_name = _RUNNERS[kind]
    try:
        module = importlib.import_module(f"{__package__}.{module_name}")
        runner = getattr(module, class_name)()
    except (ImportError, AttributeError) as exc:
        raise StepKindUnavailable(f"{kind.value} steps cannot run in this build: {exc}") from exc
    _cache[kind] = runner
    return runner


def runner_for_step(step: Step) -> StepRunner:
    """The runner for ``step``: a shell step with ``targets`` runs on a fleet through Ansible."""
    if step.fleet is not None and step.kind is StepKind.SHELL:
        from ..fleet import FleetShellRunner

        return FleetShellRunner()
    return runner_for(step.kind)
