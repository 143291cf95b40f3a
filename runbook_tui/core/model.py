"""The runbook model: immutable, validated, every element with its source location.

A runbook holds procedures (each a list of pre-checks, steps and verification
checks with a recovery window), a decision matrix that points at procedures,
declared parameters, and the reference material an on-call engineer needs
beside the steps: roles, escalation, alert thresholds, checklists and
communication templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from importlib import import_module
from typing import TYPE_CHECKING, Any, ClassVar

from .durations import Window
from .errors import NOWHERE, Location

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

    # The built-in kinds' specs, re-exported (lazily, see __getattr__) for the engine and
    # the front ends that name them; a kind's own module is their home.
    from .steps.ansible import AnsibleSpec as AnsibleSpec
    from .steps.cargo_features import CargoFeaturesSpec as CargoFeaturesSpec
    from .steps.compose_image import ComposeImageSpec as ComposeImageSpec
    from .steps.confirm import ConfirmSpec as ConfirmSpec
    from .steps.docker import DockerAction as DockerAction
    from .steps.docker import DockerSpec as DockerSpec
    from .steps.git import GitAction as GitAction
    from .steps.git import GitSpec as GitSpec
    from .steps.http import HttpSpec as HttpSpec
    from .steps.manual import ManualSpec as ManualSpec
    from .steps.shell import ShellSpec as ShellSpec
    from .steps.watch import WatchSpec as WatchSpec

FORMAT_VERSION = 1


class StepKind(str):
    """A step kind's name: the name of its module under ``core/steps/`` (``shell``, ``http``, ...).

    Any name makes a StepKind, and there is one instance per name, so ``step.kind is
    StepKind.WATCH`` holds as it did when this was an enum. Which kinds exist is the
    registry's business (``core/steps/registry.py`` finds the kind modules): adding a
    kind adds no member here. The named constants are the built-in kinds, in the
    order the loader's messages list them (see :data:`BUILT_IN_KINDS`).
    """

    __slots__ = ()
    _interned: ClassVar[dict[str, StepKind]] = {}

    SHELL: ClassVar[StepKind]
    HTTP: ClassVar[StepKind]
    DOCKER: ClassVar[StepKind]
    CARGO_FEATURES: ClassVar[StepKind]
    COMPOSE_IMAGE: ClassVar[StepKind]
    GIT: ClassVar[StepKind]
    MANUAL: ClassVar[StepKind]
    CONFIRM: ClassVar[StepKind]
    WATCH: ClassVar[StepKind]
    ANSIBLE: ClassVar[StepKind]

    def __new__(cls, name: str) -> StepKind:
        kind = cls._interned.get(name)
        if kind is None:
            kind = cls._interned.setdefault(str(name), super().__new__(cls, name))
        return kind

    @property
    def value(self) -> str:
        """The name as a plain string (as the enum's ``.value`` was)."""
        return str(self)

    def __repr__(self) -> str:
        return f"StepKind({str(self)!r})"


StepKind.SHELL = StepKind("shell")
StepKind.HTTP = StepKind("http")
StepKind.DOCKER = StepKind("docker")
StepKind.CARGO_FEATURES = StepKind("cargo_features")
StepKind.COMPOSE_IMAGE = StepKind("compose_image")
StepKind.GIT = StepKind("git")
StepKind.MANUAL = StepKind("manual")
StepKind.CONFIRM = StepKind("confirm")
StepKind.WATCH = StepKind("watch")
StepKind.ANSIBLE = StepKind("ansible")
# The built-in kinds in the order the loader's messages have always listed them; the
# registry lists these first, then any other kind module by name.
BUILT_IN_KINDS: tuple[StepKind, ...] = (
    StepKind.SHELL,
    StepKind.HTTP,
    StepKind.DOCKER,
    StepKind.CARGO_FEATURES,
    StepKind.COMPOSE_IMAGE,
    StepKind.GIT,
    StepKind.MANUAL,
    StepKind.CONFIRM,
    StepKind.WATCH,
    StepKind.ANSIBLE,
)
# Where the built-in kinds' specs live, for ``from runbook_tui.core.model import ShellSpec``.
# Imported on first use: the kind modules import this module.
_SPEC_HOMES = {
    "ShellSpec": "shell",
    "HttpSpec": "http",
    "DockerSpec": "docker",
    "DockerAction": "docker",
    "CargoFeaturesSpec": "cargo_features",
    "ComposeImageSpec": "compose_image",
    "GitSpec": "git",
    "GitAction": "git",
    "ManualSpec": "manual",
    "ConfirmSpec": "confirm",
    "WatchSpec": "watch",
    "AnsibleSpec": "ansible",
}


def __getattr__(name: str) -> Any:
    """A built-in kind's spec class, imported from its kind module on first use."""
    home = _SPEC_HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__package__}.steps.{home}"), name)
    globals()[name] = value
    return value


class Milestone(StrEnum):
    """Incident milestones a step can mark when it passes."""

    DETECTED = "detected"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"


# --- step specifications ---------------------------------------------------------
# Each kind's spec lives in its kind module (core/steps/<kind>.py). Where a step runs
# (here or on a fleet) is not a kind, so FleetSpec stays here.


@dataclass(frozen=True, slots=True)
class FleetSpec:
    """Where a fleet step runs: an Ansible host pattern, in batches, under a blast-radius cap.

    ``serial`` holds Ansible's batch sizes as written ("1", "30%"; the last repeats);
    empty means every host at once. ``inventory`` is an absolute path from the
    runbook's ``inventory:`` ("" when it has none); ``max_hosts`` is the step's own
    cap or the runbook's default (None: no cap).
    """

    targets: str
    serial: tuple[str, ...] = ()
    max_fail_percentage: float | None = None
    become: bool = False
    forks: int | None = None
    max_hosts: int | None = None
    inventory: str = ""


@dataclass(frozen=True, slots=True)
class Capture:
    """Set parameter ``name`` from the first group of ``pattern`` matched in the step's output."""

    name: str
    pattern: str
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Step:
    """One thing to do (or check) in a procedure."""

    id: str
    title: str
    kind: StepKind
    spec: DataclassInstance  # the kind's spec dataclass (core/steps/<kind>.py)
    description: str = ""
    confirm: str | None = None  # a gate shown before the step runs, naming what will happen
    destructive: bool = False
    timeout: float | None = None
    continue_on_failure: bool = False
    milestone: Milestone | None = None
    role: str | None = None
    location: Location = NOWHERE
    fleet: FleetSpec | None = None  # set: the step runs on the hosts of an Ansible inventory
    read_only: bool = False  # the author says it changes nothing: ``plan`` runs it
    capture: Capture | None = None

    @property
    def is_edit(self) -> bool:
        """The step edits a file, as its kind declares (``KindDef.edits``): the diff is confirmed first."""
        from .steps.registry import KINDS  # the kind modules import the model: looked up when asked

        definition = KINDS.get(self.kind)
        return definition is not None and definition.edits


@dataclass(frozen=True, slots=True)
class Procedure:
    """A rollback procedure: pre-checks, steps and verification, against a recovery window."""

    id: str
    title: str
    steps: tuple[Step, ...]
    prechecks: tuple[Step, ...] = ()
    verification: tuple[Step, ...] = ()
    window: Window | None = None
    when: str = ""
    description: str = ""
    scope: str = ""
    symptoms: tuple[str, ...] = ()
    location: Location = NOWHERE

    @property
    def target_seconds(self) -> float | None:
        return self.window.target_seconds if self.window else None

    def all_steps(self) -> tuple[Step, ...]:
        """Pre-checks, steps, then verification, in the order they run."""
        return self.prechecks + self.steps + self.verification


@dataclass(frozen=True, slots=True)
class Signal:
    """A live check that, when it matches, points triage at a decision-matrix row."""

    url: str
    expect_status: int | None = None
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class DecisionRow:
    """One row of the decision matrix: an issue or signal, and what to do about it."""

    id: str
    issue: str
    action: str
    procedure: str | None = None  # id of the procedure the action calls for
    severity: str = ""
    threshold: str = ""
    impact: str = ""
    deadline: Window | None = None  # "rollback if not resolved in 10 min"
    signal: Signal | None = None
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class DecisionMatrix:
    """The runbook's decision table, with its original column headings."""

    rows: tuple[DecisionRow, ...] = ()
    columns: tuple[str, ...] = ()
    location: Location = NOWHERE


class ParameterSource(StrEnum):
    COMMAND = "command"
    DOCKER_TAGS = "docker_tags"
    GIT_TAGS = "git_tags"


@dataclass(frozen=True, slots=True)
class ChoicesFrom:
    """Where a parameter's choices come from at run time (a command, docker or git tags)."""

    source: ParameterSource
    value: str  # the command, the image repository, or the repository path
    location: Location = NOWHERE
    docker_host: str | None = None  # docker_tags: the engine (ssh://user@host[:port]); None: DOCKER_HOST


@dataclass(frozen=True, slots=True)
class Parameter:
    """A value the engineer supplies; validation fails closed."""

    name: str
    description: str = ""
    default: str | None = None
    pattern: str | None = None
    choices: tuple[str, ...] = ()
    choices_from: ChoicesFrom | None = None
    secret: bool = False
    required: bool = True
    example: str | None = None
    location: Location = NOWHERE
    # A value the runbook's prose gives: pre-filled in the prompt, never used unasked.
    suggestion: str | None = None


@dataclass(frozen=True, slots=True)
class ChecklistItem:
    text: str
    group: str = ""
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Checklist:
    """Post-rollback tasks, a recovery plan, or any list to tick off."""

    id: str
    title: str
    items: tuple[ChecklistItem, ...]
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Role:
    role: str
    responsibilities: str = ""
    name: str = ""
    contact: str = ""
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class EscalationLevel:
    level: int
    who: str
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class AlertThreshold:
    metric: str
    warning: str = ""
    critical: str = ""
    action: str = ""
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Template:
    """A communication template; ``[Field]`` placeholders are filled from the session."""

    id: str
    title: str
    body: str
    audience: str = "internal"  # internal or external
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Section:
    """Reference text kept as written: overview, monitoring, prevention, examples."""

    id: str
    title: str
    body: str
    location: Location = NOWHERE


@dataclass(frozen=True, slots=True)
class Runbook:
    """A whole runbook, as loaded from one file."""

    id: str
    title: str
    procedures: tuple[Procedure, ...]
    path: str = ""
    description: str = ""
    owner: str = ""
    severity: str = ""
    tags: tuple[str, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    decision_matrix: DecisionMatrix = field(default_factory=DecisionMatrix)
    roles: tuple[Role, ...] = ()
    contacts: tuple[Role, ...] = ()
    escalation: tuple[EscalationLevel, ...] = ()
    alert_thresholds: tuple[AlertThreshold, ...] = ()
    checklists: tuple[Checklist, ...] = ()
    templates: tuple[Template, ...] = ()
    reference: tuple[Section, ...] = ()
    version: int = FORMAT_VERSION
    location: Location = NOWHERE
    inventory: str = ""  # the runbook's Ansible inventory, absolute ("" when it names none)
    max_hosts: int | None = None  # the default blast-radius cap of its fleet steps

    def procedure(self, key: str) -> Procedure | None:
        """The procedure with id ``key``, or whose 1-based position is ``key``."""
        for proc in self.procedures:
            if proc.id == key:
                return proc
        if key.isdigit() and 0 < int(key) <= len(self.procedures):
            return self.procedures[int(key) - 1]
        return None

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)
