"""The runbook model: immutable, validated, every element with its source location.

A runbook holds procedures (each a list of pre-checks, steps and verification
checks with a recovery window), a decision matrix that points at procedures,
declared parameters, and the reference material an on-call engineer needs
beside the steps: roles, escalation, alert thresholds, checklists and
communication templates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from .durations import Window
from .errors import NOWHERE, Location
from .steps.kinds.ansible import AnsibleSpec
from .steps.kinds.cargo_features import CargoFeaturesSpec
from .steps.kinds.compose_image import ComposeImageSpec
from .steps.kinds.confirm import ConfirmSpec
from .steps.kinds.docker import DockerAction as DockerAction
from .steps.kinds.docker import DockerSpec
from .steps.kinds.git import GitAction as GitAction
from .steps.kinds.git import GitSpec
from .steps.kinds.http import HttpSpec
from .steps.kinds.manual import ManualSpec
from .steps.kinds.shell import ShellSpec
from .steps.kinds.watch import WatchSpec

FORMAT_VERSION = 1


class StepKind(StrEnum):
    SHELL = "shell"
    HTTP = "http"
    DOCKER = "docker"
    CARGO_FEATURES = "cargo_features"
    COMPOSE_IMAGE = "compose_image"
    GIT = "git"
    MANUAL = "manual"
    CONFIRM = "confirm"
    WATCH = "watch"
    ANSIBLE = "ansible"


class Milestone(StrEnum):
    """Incident milestones a step can mark when it passes."""

    DETECTED = "detected"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"


# --- step specifications ---------------------------------------------------------
# Each kind's spec lives with its kind (core/steps/kinds/<kind>.py); they are imported
# above so that ``from runbook_tui.core.model import ShellSpec`` keeps working. Where a
# step runs (here or on a fleet) is not a kind, so FleetSpec stays here.


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


StepSpec = (
    ShellSpec
    | HttpSpec
    | DockerSpec
    | CargoFeaturesSpec
    | ComposeImageSpec
    | GitSpec
    | ManualSpec
    | ConfirmSpec
    | WatchSpec
    | AnsibleSpec
)

SPEC_FOR_KIND: Mapping[StepKind, type] = MappingProxyType(
    {
        StepKind.SHELL: ShellSpec,
        StepKind.HTTP: HttpSpec,
        StepKind.DOCKER: DockerSpec,
        StepKind.CARGO_FEATURES: CargoFeaturesSpec,
        StepKind.COMPOSE_IMAGE: ComposeImageSpec,
        StepKind.GIT: GitSpec,
        StepKind.MANUAL: ManualSpec,
        StepKind.CONFIRM: ConfirmSpec,
        StepKind.WATCH: WatchSpec,
        StepKind.ANSIBLE: AnsibleSpec,
    }
)


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
    spec: StepSpec
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
        return self.kind in (StepKind.CARGO_FEATURES, StepKind.COMPOSE_IMAGE)


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
