"""The runbook as a whole: its top-level keys, the reference material, and the checks across parts.

:class:`RunbookBuilder` builds a :class:`Runbook` from a node tree, combining the
parameter and procedure readers; it never stops at the first problem.
"""

from __future__ import annotations

from collections.abc import Iterator

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .. import shell_syntax
from ..errors import Location, Problem
from ..model import (
    FORMAT_VERSION,
    AlertThreshold,
    Checklist,
    ChecklistItem,
    EscalationLevel,
    Parameter,
    Procedure,
    Role,
    Runbook,
    Section,
    Template,
)
from ..params import PLACEHOLDER, shell_problem
from .nodes import INT, NULL, did_you_mean, raw_id, scalars
from .parameters import ParameterReader
from .procedures import ProcedureReader

TOP_KEYS = frozenset(
    {
        "runbook",
        "id",
        "title",
        "description",
        "owner",
        "severity",
        "tags",
        "parameters",
        "decision_matrix",
        "procedures",
        "roles",
        "contacts",
        "escalation",
        "alert_thresholds",
        "checklists",
        "templates",
        "reference",
        "inventory",
        "max_hosts",
    }
)


class RunbookBuilder(ProcedureReader, ParameterReader):
    """Builds the model from the node tree, reporting every problem to the context."""

    # -- the runbook --

    def runbook(self, root: Node | None) -> Runbook | None:
        ctx = self.ctx
        if root is None:
            ctx.error_at(
                ctx.location(1, 1), "empty file; a runbook starts with 'runbook: 1', 'id:' and 'title:'"
            )
            return None
        if isinstance(root, MappingNode) and not self._version(root):
            return None  # another format version: its other problems would only be noise
        m = self.mapping(root, "the runbook", TOP_KEYS, ("id", "title", "procedures"))
        if m is None:
            return None
        self.fleet_defaults(m)
        procedures = self.procedures(m.get("procedures"))
        parameters = self.parameters(m.get("parameters"))
        runbook = Runbook(
            id=self.ident(m, "id", "the runbook"),
            title=self.text(m, "title", "the runbook"),
            procedures=procedures,
            path=ctx.file,
            description=self.text(m, "description", "the runbook"),
            owner=self.text(m, "owner", "the runbook"),
            severity=self.text(m, "severity", "the runbook"),
            tags=self.text_list(m, "tags", "the runbook"),
            parameters=parameters,
            decision_matrix=self.decision_matrix(m.get("decision_matrix")),
            roles=self.roles(m.get("roles"), "roles"),
            contacts=self.roles(m.get("contacts"), "contacts"),
            escalation=self.escalation(m.get("escalation")),
            alert_thresholds=self.thresholds(m.get("alert_thresholds")),
            checklists=self.checklists(m.get("checklists")),
            templates=self.templates(m.get("templates")),
            reference=self.sections(m.get("reference")),
            version=FORMAT_VERSION,
            location=ctx.at(root),
            inventory=self.inventory,
            max_hosts=self.max_hosts,
        )
        self._check_references(procedures)
        self._check_placeholders(parameters)
        self._warn_secret_arguments(procedures, parameters)
        self._check_shell(parameters)
        return runbook

    def _warn_secret_arguments(
        self, procedures: tuple[Procedure, ...], parameters: tuple[Parameter, ...]
    ) -> None:
        """A warning where a shell command hands a secret to a program as an argument (``ps`` shows it)."""
        from ..secret_args import secret_argument_warnings

        for step, text in secret_argument_warnings(procedures, parameters):
            self.ctx.problems.append(Problem(step.location, text, severity="warning"))

    def _version(self, root: MappingNode) -> bool:
        node = next((v for k, v in root.value if k.value == "runbook"), None)
        if node is None:
            self.ctx.error(root, f"missing the format version: add 'runbook: {FORMAT_VERSION}' at the top")
            return True
        if not (isinstance(node, ScalarNode) and node.tag == INT):
            self.ctx.error(
                node, f"'runbook' is the format version, a number: write 'runbook: {FORMAT_VERSION}'"
            )
            return True
        if int(node.value) != FORMAT_VERSION:
            self.ctx.error(
                node,
                f"unsupported runbook format version {node.value}; "
                f"this runbook-tui reads version {FORMAT_VERSION}",
            )
            return False
        return True

    def _check_references(self, procedures: tuple[Procedure, ...]) -> None:
        known = [p.id for p in procedures]
        for ref, node in self.procedure_refs:
            if ref not in known:
                listed = ", ".join(known) or "none"
                self.ctx.error(
                    node,
                    f"procedure {ref!r} does not exist{did_you_mean(ref, known)}; procedures here: {listed}",
                )

    def _check_placeholders(self, parameters: tuple[Parameter, ...]) -> None:
        declared = {p.name for p in parameters}
        seen: set[int] = set()
        for step_node in self.step_nodes:
            for scalar in scalars(step_node, seen):
                for match in PLACEHOLDER.finditer(str(scalar.value)):
                    name = match.group(1)
                    if name not in declared:
                        where = self._placeholder_location(scalar, match.group(0))
                        message = f"placeholder {{{{{name}}}}} is not a declared parameter"
                        hint = did_you_mean(name, declared)
                        self.ctx.error_at(where, message + (hint or "; declare it under 'parameters:'"))

    def _check_shell(self, parameters: tuple[Parameter, ...]) -> None:
        """Placeholders where the shell expands nothing, and step env keys that shadow parameters."""
        declared = {p.name for p in parameters}
        for c, where in self.capture_maps:
            name_node = c.get("name")
            if name_node is not None and str(getattr(name_node, "value", "")) not in declared:
                known = ", ".join(sorted(declared)) or "none"
                self.ctx.error(
                    name_node,
                    f"'name' of {where} must be a parameter declared under 'parameters:' "
                    f"(its pattern checks the captured value); declared: {known}",
                )
        for m, what in self.shell_maps:
            node = m.get("command")
            if isinstance(node, ScalarNode):
                self._check_command_placeholders(node, str(node.value))
            env = m.get("env")
            if isinstance(env, MappingNode):
                for key_node, _value in env.value:
                    if key_node.value in declared:
                        self.ctx.error(
                            key_node,
                            f"'env' key {key_node.value!r} of {what} is also a parameter name; "
                            f"a shell step gets parameter {key_node.value!r} as that variable already: "
                            "drop the key or rename one of them",
                        )

    def _check_command_placeholders(self, node: ScalarNode, command: str) -> None:
        seen: dict[str, int] = {}
        for use in shell_syntax.placeholder_uses(command):
            written = command[use.start : use.end]
            nth = seen.get(written, 0)
            seen[written] = nth + 1
            problem = shell_problem(use)
            if problem is not None:
                where = self._placeholder_location(node, written, nth)
                self.ctx.error_at(where, f"placeholder {written} {problem}")

    def _placeholder_location(self, scalar: ScalarNode, written: str, nth: int = 0) -> Location:
        start, end = scalar.start_mark.index, scalar.end_mark.index
        index = self.ctx.text.find(written, start, end)
        for _ in range(nth):  # the nth use of the same placeholder in this scalar
            if index >= 0:
                index = self.ctx.text.find(written, index + 1, end)
        return self.ctx.location_of_index(index) if index >= 0 else self.ctx.at(scalar)

    # -- people, thresholds, checklists, templates, reference --

    def roles(self, node: Node | None, key: str) -> tuple[Role, ...]:
        out: list[Role] = []
        for item in self.sequence(node, f"{key!r}"):
            m = self.mapping(
                item, f"an entry of {key!r}", ("role", "responsibilities", "name", "contact"), ("role",)
            )
            if m is not None:
                what = f"an entry of {key!r}"
                out.append(
                    Role(
                        role=self.text(m, "role", what),
                        responsibilities=self.text(m, "responsibilities", what),
                        name=self.text(m, "name", what),
                        contact=self.text(m, "contact", what),
                        location=self.ctx.at(item),
                    )
                )
        return tuple(out)

    def escalation(self, node: Node | None) -> tuple[EscalationLevel, ...]:
        out: list[EscalationLevel] = []
        for item in self.sequence(node, "'escalation'"):
            what = "an escalation level"
            m = self.mapping(item, what, ("level", "who"), ("level", "who"))
            if m is not None:
                level = self.integer(m, "level", what, 0) or 0
                out.append(EscalationLevel(level, self.text(m, "who", what), self.ctx.at(item)))
        return tuple(out)

    def thresholds(self, node: Node | None) -> tuple[AlertThreshold, ...]:
        out: list[AlertThreshold] = []
        for item in self.sequence(node, "'alert_thresholds'"):
            what = "an alert threshold"
            m = self.mapping(item, what, ("metric", "warning", "critical", "action"), ("metric",))
            if m is not None:
                out.append(
                    AlertThreshold(
                        metric=self.text(m, "metric", what),
                        warning=self.text(m, "warning", what),
                        critical=self.text(m, "critical", what),
                        action=self.text(m, "action", what),
                        location=self.ctx.at(item),
                    )
                )
        return tuple(out)

    def checklists(self, node: Node | None) -> tuple[Checklist, ...]:
        out: list[Checklist] = []
        items = self.sequence(node, "'checklists'")
        self.unique(((raw_id(item), item) for item in items), "checklist id")
        for item in items:
            m = self.mapping(item, "a checklist", ("id", "title", "items"), ("id", "title", "items"))
            if m is None:
                continue
            checklist_id = self.ident(m, "id", "a checklist")
            what = f"checklist {checklist_id!r}"
            entries = tuple(self._checklist_items(m.get("items"), what))
            out.append(Checklist(checklist_id, self.text(m, "title", what), entries, self.ctx.at(item)))

        return tuple(out)

    def _checklist_items(self, node: Node | None, what: str) -> Iterator[ChecklistItem]:
        items = self.sequence(node, f"'items' of {what}")
        if node is not None and isinstance(node, SequenceNode) and not items:
            self.ctx.error(node, f"'items' of {what} is empty")
        for item in items:
            if isinstance(item, ScalarNode) and item.tag != NULL:
                yield ChecklistItem(str(item.value), location=self.ctx.at(item))
                continue
            m = self.mapping(item, f"an item of {what}", ("text", "group"), ("text",))
            if m is not None:
                yield ChecklistItem(
                    self.text(m, "text", what), self.text(m, "group", what), location=self.ctx.at(item)
                )

    def templates(self, node: Node | None) -> tuple[Template, ...]:
        out: list[Template] = []
        items = self.sequence(node, "'templates'")
        self.unique(((raw_id(item), item) for item in items), "template id")
        for item in items:
            m = self.mapping(item, "a template", ("id", "title", "body", "audience"), ("id", "title", "body"))
            if m is None:
                continue
            template_id = self.ident(m, "id", "a template")
            what = f"template {template_id!r}"
            audience = self.text(m, "audience", what, "internal")
            audience_node = m.get("audience")
            if audience not in ("internal", "external") and audience_node is not None:
                self.ctx.error(audience_node, f"'audience' of {what} must be internal or external")
            out.append(
                Template(
                    template_id,
                    self.text(m, "title", what),
                    self.text(m, "body", what),
                    audience,
                    self.ctx.at(item),
                )
            )

        return tuple(out)

    def sections(self, node: Node | None) -> tuple[Section, ...]:
        out: list[Section] = []
        items = self.sequence(node, "'reference'")
        self.unique(((raw_id(item), item) for item in items), "reference section id")
        for item in items:
            m = self.mapping(item, "a reference section", ("id", "title", "body"), ("id", "title", "body"))
            if m is None:
                continue
            section_id = self.ident(m, "id", "a reference section")
            what = f"reference section {section_id!r}"
            out.append(
                Section(
                    section_id, self.text(m, "title", what), self.text(m, "body", what), self.ctx.at(item)
                )
            )

        return tuple(out)
