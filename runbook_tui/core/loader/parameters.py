"""Parameters: the values the engineer supplies, their patterns, choices and where choices come from."""

from __future__ import annotations

import re

from yaml.nodes import Node

from ..model import ChoicesFrom, Parameter, ParameterSource
from ..params import reserved_name
from .nodes import MappedNode, NodeReader, raw_id

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PARAM_KEYS = frozenset(
    {
        "name",
        "description",
        "pattern",
        "choices",
        "choices_from",
        "default",
        "example",
        "secret",
        "required",
        "suggestion",
    }
)


class ParameterReader(NodeReader):
    """Reads ``parameters:``."""

    def parameters(self, node: Node | None) -> tuple[Parameter, ...]:
        items = self.sequence(node, "'parameters'")
        out = [param for param in map(self.parameter, items) if param is not None]
        self.unique(((raw_id(item, "name"), item) for item in items), "parameter")
        return tuple(out)

    def parameter(self, node: Node) -> Parameter | None:
        what = "a parameter"
        m = self.mapping(node, what, PARAM_KEYS, ("name",))
        if m is None:
            return None
        name = self.text(m, "name", what)
        name_node = m.get("name")
        if name and name_node is not None and not _NAME.match(name):
            suggestion = re.sub(r"\W+", "_", name).strip("_") or "value"
            self.ctx.error(name_node, f"parameter name {name!r} must be an identifier like {suggestion!r}")
        elif name and name_node is not None and reserved_name(name):
            self.ctx.error(
                name_node,
                f"parameter name {name!r} is reserved: shell steps get each parameter as an environment "
                "variable, and the shell, the loader or runbook-tui read this one; "
                f"rename it (for example {name.lower()!r} or 'app_{name.lower()}')",
            )
        what = f"parameter {name!r}" if name else what
        param = Parameter(
            name=name,
            description=self.text(m, "description", what),
            default=self.opt_text(m, "default", what),
            pattern=self._pattern(m, what),
            choices=self.text_list(m, "choices", what),
            choices_from=self._choices_from(m, what),
            secret=self.boolean(m, "secret", what),
            required=self.boolean(m, "required", what, default=True),
            example=self.opt_text(m, "example", what),
            location=self.ctx.at(node),
            suggestion=self.opt_text(m, "suggestion", what),
        )
        self._check_value(m, "default", param, what)
        self._check_value(m, "example", param, what)
        self._check_value(m, "suggestion", param, what)
        return param

    def _pattern(self, m: MappedNode, what: str) -> str | None:
        pattern = self.opt_text(m, "pattern", what)
        node = m.get("pattern")
        if pattern is None or node is None:
            return pattern
        try:
            re.compile(pattern)
        except re.error as exc:
            self.ctx.error(node, f"'pattern' of {what} is not a valid regular expression: {exc}")
        return pattern

    def _check_value(self, m: MappedNode, key: str, param: Parameter, what: str) -> None:
        value = getattr(param, key)
        node = m.get(key)
        if value is None or node is None:
            return
        if param.choices and value not in param.choices:
            self.ctx.error(
                node, f"{key} {value!r} of {what} is not one of its choices ({', '.join(param.choices)})"
            )
        if param.pattern is not None:
            try:
                ok = re.fullmatch(param.pattern, value) is not None
            except re.error:
                return  # already reported
            if not ok:
                self.ctx.error(node, f"{key} {value!r} of {what} does not match its pattern {param.pattern}")

    def _choices_from(self, m: MappedNode, what: str) -> ChoicesFrom | None:
        node = m.get("choices_from")
        if node is None:
            return None
        sources = [s.value for s in ParameterSource]
        sub = self.mapping(node, f"'choices_from' of {what}", [*sources, "docker_host"])
        if sub is None:
            return None
        given = [s for s in sources if s in sub]
        if len(given) != 1:
            self.ctx.error(node, f"'choices_from' of {what} needs exactly one of {', '.join(sources)}")
            return None
        value = self.text(sub, given[0], f"'choices_from' of {what}")
        docker_host = self.opt_text(sub, "docker_host", f"'choices_from' of {what}")
        if docker_host is not None and given[0] != ParameterSource.DOCKER_TAGS.value:
            self.ctx.error(node, f"'choices_from' of {what}: docker_host goes with docker_tags only")
        return ChoicesFrom(ParameterSource(given[0]), value, self.ctx.at(node), docker_host)
