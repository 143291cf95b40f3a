"""Procedures and their steps, fleet keys, and the decision matrix that points at procedures.

The generic step keys (those every kind takes) are :data:`STEP_KEYS`, here; each
kind's own keys and reader are in its module, ``core/steps/<kind>.py``, found
through ``core/steps/registry.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..model import (
    Capture,
    DecisionMatrix,
    DecisionRow,
    FleetSpec,
    Milestone,
    Procedure,
    Signal,
    Step,
    StepKind,
)
from ..steps import http
from ..steps.registry import KINDS
from .nodes import FLOAT, INT, MappedNode, NodeReader, describe_node, did_you_mean, raw_id
from .source import SourceContext

ROW_KEYS = frozenset(
    {"id", "issue", "threshold", "severity", "impact", "action", "procedure", "deadline", "signal"}
)
PROC_KEYS = frozenset(
    {
        "id",
        "title",
        "when",
        "description",
        "scope",
        "symptoms",
        "recovery_window",
        "prechecks",
        "steps",
        "verification",
    }
)
# The keys every step takes, whatever its kind (a kind's own keys are in its module).
STEP_KEYS = frozenset(
    {
        "id",
        "title",
        "kind",
        "description",
        "confirm",
        "destructive",
        "timeout",
        "continue_on_failure",
        "milestone",
        "role",
        "read_only",
        "capture",
    }
)
# Fleet steps: a kind with ``fleet`` (shell with targets, ansible) also takes these.
_FLEET_KEYS = frozenset({"targets", "serial", "max_fail_percentage", "become", "forks", "max_hosts"})
_BATCH = re.compile(r"^[0-9]+%?$")
_KIND_KEYS: Mapping[StepKind, frozenset[str]] = {
    kind: definition.keys | (_FLEET_KEYS if definition.fleet else frozenset())
    for kind, definition in KINDS.items()
}
_KIND_VALUES = tuple(kind.value for kind in KINDS)
_ALL_KIND_KEYS = frozenset().union(*_KIND_KEYS.values())


def _foreign_keys(kind: StepKind) -> dict[str, str]:
    """Keys of other step kinds, and which kinds have them, for 'unknown key' hints."""
    out: dict[str, str] = {}
    for key in _ALL_KIND_KEYS - _KIND_KEYS[kind]:
        owners = [k.value for k, keys in _KIND_KEYS.items() if key in keys]
        out[key] = " and ".join(owners) + " steps"
    return out


_FOREIGN_KEYS: Mapping[StepKind, Mapping[str, str]] = {kind: _foreign_keys(kind) for kind in KINDS}


class ProcedureReader(NodeReader):
    """Reads ``procedures:`` with their steps, and ``decision_matrix:``; keeps what is checked later."""

    def __init__(self, ctx: SourceContext) -> None:
        super().__init__(ctx)
        self.step_nodes: list[Node] = []
        self.procedure_refs: list[tuple[str, Node]] = []
        self.shell_maps: list[tuple[MappedNode, str]] = []  # shell/watch steps: checked once params are known
        self.capture_maps: list[tuple[MappedNode, str]] = []  # capture: names checked once params are known
        self.inventory = ""  # the runbook's inventory:, absolute; read before its steps
        self.max_hosts: int | None = None

    # -- decision matrix --

    def decision_matrix(self, node: Node | None) -> DecisionMatrix:
        if node is None:
            return DecisionMatrix()
        if isinstance(node, SequenceNode):
            self.ctx.error(node, "'decision_matrix' must be a mapping: put the rows under 'rows:'")
            return DecisionMatrix()
        m = self.mapping(node, "'decision_matrix'", ("columns", "rows"), ("rows",))
        if m is None:
            return DecisionMatrix()
        items = self.sequence(m.get("rows"), "'rows' of the decision matrix")
        rows = [row for row in map(self.decision_row, items) if row is not None]
        self.unique(((raw_id(item), item) for item in items), "decision row id")
        columns = self.text_list(m, "columns", "the decision matrix")
        return DecisionMatrix(tuple(rows), columns, self.ctx.at(node))

    def decision_row(self, node: Node) -> DecisionRow | None:
        m = self.mapping(node, "a decision row", ROW_KEYS, ("id", "issue", "action"))
        if m is None:
            return None
        row_id = self.ident(m, "id", "a decision row")
        what = f"decision row {row_id!r}" if row_id else "a decision row"
        procedure = self.opt_text(m, "procedure", what)
        ref_node = m.get("procedure")
        if procedure is not None and ref_node is not None:
            self.procedure_refs.append((procedure, ref_node))
        return DecisionRow(
            id=row_id,
            issue=self.text(m, "issue", what),
            action=self.text(m, "action", what),
            procedure=procedure,
            severity=self.text(m, "severity", what),
            threshold=self.text(m, "threshold", what),
            impact=self.text(m, "impact", what),
            deadline=self.window(m, "deadline", what),
            signal=self.signal(m.get("signal"), what),
            location=self.ctx.at(node),
        )

    def signal(self, node: Node | None, owner: str) -> Signal | None:
        if node is None:
            return None
        what = f"the signal of {owner}"
        m = self.mapping(node, what, ("url", "expect_status"), ("url",))
        if m is None:
            return None
        self.step_nodes.append(node)  # its URL may use placeholders too
        url = self.text(m, "url", what)
        http.check_url(self, m, url, what)
        status = http.status(self, m, what, default=None)
        return Signal(url, status, self.ctx.at(node))

    # -- procedures and steps --

    def procedures(self, node: Node | None) -> tuple[Procedure, ...]:
        items = self.sequence(node, "'procedures'")
        if node is not None and isinstance(node, SequenceNode) and not items:
            self.ctx.error(node, "'procedures' is empty; a runbook needs at least one procedure")
        out = [proc for proc in map(self.procedure, items) if proc is not None]
        self.unique(((raw_id(item), item) for item in items), "procedure id")
        return tuple(out)

    def procedure(self, node: Node) -> Procedure | None:
        m = self.mapping(node, "a procedure", PROC_KEYS, ("id", "title", "steps"))
        if m is None:
            return None
        proc_id = self.ident(m, "id", "a procedure")
        what = f"procedure {proc_id!r}" if proc_id else "a procedure"
        phases = {key: self.steps(m.get(key), key, what) for key in ("prechecks", "steps", "verification")}
        steps_node = m.get("steps")
        if steps_node is not None and isinstance(steps_node, SequenceNode) and not steps_node.value:
            self.ctx.error(steps_node, f"'steps' of {what} is empty; a procedure needs at least one step")
        step_nodes = [
            item for key in ("prechecks", "steps", "verification") for item in self.sequence_quiet(m.get(key))
        ]
        self.unique(((raw_id(item), item) for item in step_nodes), "step id", f" in {what}")
        return Procedure(
            id=proc_id,
            title=self.text(m, "title", what),
            steps=tuple(step for step, _ in phases["steps"]),
            prechecks=tuple(step for step, _ in phases["prechecks"]),
            verification=tuple(step for step, _ in phases["verification"]),
            window=self.window(m, "recovery_window", what),
            when=self.text(m, "when", what),
            description=self.text(m, "description", what),
            scope=self.text(m, "scope", what),
            symptoms=self.text_list(m, "symptoms", what),
            location=self.ctx.at(node),
        )

    def steps(self, node: Node | None, key: str, owner: str) -> list[tuple[Step, Node]]:
        out: list[tuple[Step, Node]] = []
        for item in self.sequence(node, f"{key!r} of {owner}"):
            step = self.step(item)
            if step is not None:
                out.append((step, item))
        return out

    def step(self, node: Node) -> Step | None:
        if not isinstance(node, MappingNode):
            self.ctx.error(
                node, f"a step must be a mapping (id:, title:, kind: ...), found {describe_node(node)}"
            )
            return None
        self.step_nodes.append(node)
        kind = self._step_kind(node)
        if kind is None:
            self.mapping(node, "a step", STEP_KEYS | _ALL_KIND_KEYS, ("id", "title", "kind"))
            return None
        written_id = raw_id(node)
        what = f"{kind.value} step {written_id!r}" if written_id else f"a {kind.value} step"
        definition = KINDS[kind]
        allowed = STEP_KEYS | _KIND_KEYS[kind]
        m = self.mapping(
            node, what, allowed, ("id", "title", *definition.required), foreign=_FOREIGN_KEYS[kind]
        )
        if m is None:
            return None
        step_id = self.ident(m, "id", what)
        if definition.shell:
            self.shell_maps.append((m, what))
        spec = definition.read(self, m, what)
        if spec is None:
            return None
        return Step(
            id=step_id,
            title=self.text(m, "title", what),
            kind=kind,
            spec=spec,
            description=self.text(m, "description", what),
            confirm=self.opt_text(m, "confirm", what),
            destructive=self.boolean(m, "destructive", what),
            timeout=self.duration(m, "timeout", what),
            continue_on_failure=self.boolean(m, "continue_on_failure", what),
            milestone=self.choice(m, "milestone", what, Milestone),
            role=self.opt_text(m, "role", what),
            location=self.ctx.at(node),
            fleet=self.fleet(m, what, kind),
            read_only=self.boolean(m, "read_only", what),
            capture=self.capture(m, what),
        )

    def capture(self, m: MappedNode, what: str) -> Capture | None:
        """``capture: {name: P, pattern: '...'}``: a regex with one group, P checked once params are known."""
        node = m.get("capture")
        if node is None:
            return None
        where = f"'capture' of {what}"
        c = self.mapping(node, where, ("name", "pattern"), ("name", "pattern"))
        if c is None:
            return None
        name, pattern = self.text(c, "name", where), self.text(c, "pattern", where)
        pattern_node = c.get("pattern")
        try:
            groups = re.compile(pattern).groups
        except re.error as exc:
            self.ctx.error(
                pattern_node or node, f"'pattern' of {where} is not a valid regular expression: {exc}"
            )
            return None
        if groups < 1:
            self.ctx.error(
                pattern_node or node,
                f"'pattern' of {where} has no group; put the value to capture in ( ), like 'version: (\\S+)'",
            )
            return None
        self.capture_maps.append((c, where))
        return Capture(name, pattern, self.ctx.at(node))

    def _step_kind(self, node: MappingNode) -> StepKind | None:
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == "kind":
                value = str(value_node.value) if isinstance(value_node, ScalarNode) else ""
                kinds = _KIND_VALUES
                if value in kinds:
                    return StepKind(value)
                found = repr(value) if value else describe_node(value_node)
                self.ctx.error(
                    value_node,
                    f"unknown step kind {found}{did_you_mean(value, kinds)}; kinds: {', '.join(kinds)}",
                )
                return None
        return None  # the missing key is reported by mapping()

    # -- fleet steps (Ansible): inventory, targets, batches, the blast-radius cap --

    def fleet_defaults(self, m: MappedNode) -> None:
        """The runbook's ``inventory:`` (relative to the runbook file) and default ``max_hosts``."""
        inventory = self.text(m, "inventory", "the runbook")
        if inventory:
            base = Path(self.ctx.file).parent if self.ctx.file else Path.cwd()
            self.inventory = str((base / inventory).resolve())
        self.max_hosts = self._max_hosts(m, "the runbook")

    def _max_hosts(self, m: MappedNode, what: str) -> int | None:
        value = self.integer(m, "max_hosts", what)
        node = m.get("max_hosts")
        if value is not None and node is not None and value < 1:
            self.ctx.error(node, f"'max_hosts' of {what} must be 1 or more, found {value}")
            return None
        return value

    def fleet(self, m: MappedNode, what: str, kind: StepKind) -> FleetSpec | None:
        """The step's fleet keys, or None for a step that runs here (no ``targets``)."""
        if "targets" not in m:
            return None
        targets = self.text(m, "targets", what).strip()
        if not targets:
            self.ctx.error(m.keys["targets"], f"'targets' of {what} is empty; name an Ansible host pattern")
        forks = self.integer(m, "forks", what)
        if forks is not None and forks < 1:
            self.ctx.error(m.keys["forks"], f"'forks' of {what} must be 1 or more, found {forks}")
            forks = None
        step_cap = self._max_hosts(m, what)
        if kind is StepKind.ANSIBLE:
            for key in ("serial", "max_fail_percentage"):
                if key in m:
                    self.ctx.error(
                        m.keys[key],
                        f"{key!r} of {what} is a play keyword: set it on the plays of the playbook itself",
                    )
        return FleetSpec(
            targets=targets,
            serial=self._serial(m, what),
            max_fail_percentage=self._percentage(m, what),
            become=self.boolean(m, "become", what),
            forks=forks,
            max_hosts=step_cap if step_cap is not None else self.max_hosts,
            inventory=self.inventory,
        )

    def _serial(self, m: MappedNode, what: str) -> tuple[str, ...]:
        """``serial`` as Ansible reads it: a number, a percentage, or a list of them."""
        node = m.get("serial")
        if node is None:
            return ()
        items = list(node.value) if isinstance(node, SequenceNode) else [node]
        out: list[str] = []
        for item in items:
            value = str(item.value).strip() if isinstance(item, ScalarNode) else ""
            if not _BATCH.match(value) or value.rstrip("%") in ("0", ""):
                self.ctx.error(
                    item,
                    f"'serial' of {what} takes batch sizes like 1, 3 or '30%' (or a list of them), "
                    f"found {describe_node(item)}",
                )
                continue
            out.append(value)
        return tuple(out)

    def _percentage(self, m: MappedNode, what: str) -> float | None:
        node = m.get("max_fail_percentage")
        if node is None:
            return None
        if isinstance(node, ScalarNode) and node.tag in (INT, FLOAT):
            value = float(str(node.value).replace("_", ""))
            if 0 <= value <= 100:
                return value
        self.ctx.error(
            node,
            f"'max_fail_percentage' of {what} must be a number from 0 to 100, found {describe_node(node)}",
        )
        return None
