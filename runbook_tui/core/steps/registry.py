"""Which runner runs which step kind; modules are imported only when their kind runs."""

from __future__ import annotations

import importlib

from ..errors import RunbookTuiError
from ..model import Step, StepKind
from .base import StepRunner

_RUNNERS: dict[StepKind, tuple[str, str]] = {
    StepKind.SHELL: ("shell", "ShellRunner"),
    StepKind.WATCH: ("watch", "WatchRunner"),
    StepKind.HTTP: ("http", "HttpRunner"),
    StepKind.DOCKER: ("docker", "DockerRunner"),
    StepKind.CARGO_FEATURES: ("cargo_features", "CargoFeaturesRunner"),
    StepKind.COMPOSE_IMAGE: ("compose_image", "ComposeImageRunner"),
    StepKind.GIT: ("git", "GitRunner"),
    StepKind.ANSIBLE: ("ansible", "AnsibleRunner"),
}
_cache: dict[StepKind, StepRunner] = {}


class StepKindUnavailable(RunbookTuiError):
    """A step kind has no runner in this build (or the engine handles it itself)."""

    exit_code = 1


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
