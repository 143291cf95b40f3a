"""Shell code blocks -> steps: one step per command group, comments as titles.

A group starts at a comment that follows a command or a blank line, so
``# 1. Stop\\ncmd\\n\\n# 2. Start\\ncmd`` is two steps. Recognisable commands become
the matching step kind (``curl -f URL`` an http check, a ``perl -pi`` edit of
Cargo.toml's default features a cargo_features step), keeping the raw command in
the description. Placeholders (``<name>``, ``$NAME`` of a declared variable,
Runme's ``export NAME=[Prompt]``) become parameters used as ``{{name}}``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from . import safety
from .drafts import ParameterDraft, StepDraft
from .shell_parse import expanded_names, statements

SHELL_LANGS = frozenset({"", "bash", "sh", "shell", "zsh", "console", "shell-session", "ksh"})

_ASSIGN = re.compile(r"^(?:export\s+)?([A-Z][A-Z0-9_]*)=(\"[^\"]*\"|'[^']*'|\S*)\s*$")
_PROMPT = re.compile(r"^export\s+([A-Za-z_][A-Za-z0-9_]*)=\[([^\]]*)\]\s*$")
_ANGLE = re.compile(r"<([a-zA-Z][a-zA-Z0-9_-]*)>")
_SQUARE = re.compile(r"(?<![\w\[$])\[([A-Z][A-Z0-9_-]*[A-Z0-9])\](?![\](])")
_MUSTACHE = re.compile(r"(?<!\$)\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
# The pattern every imported parameter gets: one word that cannot be an option (no
# leading '-'), a glob, a quote, a command separator or an expansion.
SAFE_PATTERN = r"^[A-Za-z0-9_.:/@%+][A-Za-z0-9_.:/@%+=,~-]*$"
_SAFE = re.compile(SAFE_PATTERN)
# Names a parameter must not take: the shell and the dynamic loader give them meaning.
_RESERVED = frozenset(
    [
        "PATH",
        "HOME",
        "IFS",
        "PWD",
        "OLDPWD",
        "SHELL",
        "USER",
        "LOGNAME",
        "TERM",
        "HOSTNAME",
        "HOSTTYPE",
        "UID",
        "EUID",
        "PPID",
        "GROUPS",
        "RANDOM",
        "SECONDS",
        "LINENO",
        "OPTIND",
        "OPTARG",
        "OPTERR",
        "PS1",
        "PS2",
        "PS3",
        "PS4",
        "ENV",
        "CDPATH",
        "MAIL",
        "MAILPATH",
        "LANG",
        "LANGUAGE",
        "TMPDIR",
        "SHLVL",
        "HISTFILE",
        "HISTSIZE",
        "PROMPT_COMMAND",
        "GLOBIGNORE",
        "FUNCNAME",
        "PIPESTATUS",
        "REPLY",
        "COLUMNS",
        "LINES",
        "DISPLAY",
        "EDITOR",
        "VISUAL",
        "PAGER",
        "TZ",
        "SHELLOPTS",
        "POSIXLY_CORRECT",
        "PYTHONPATH",
    ]
)
_RESERVED_PREFIXES = ("LD_", "BASH", "LC_", "SSH_", "DYLD_", "RUNBOOK_TUI")
_CD = re.compile(r"^cd\s+(\S+)\s*$")
_CURL = re.compile(r"^curl\s+(?:-[a-zA-Z]+\s+)*(https?://[^\s|;&]+)[^|;&]*(?:\|\|.*)?$")
_CURL_FAIL_FLAG = re.compile(r"^curl\s+(?:-[a-zA-Z]*\s+)*-[a-zA-Z]*f")
_CARGO_EDIT = re.compile(r"^(?:perl|sed)\s.*?default\s*=\s*\\?\[(?P<old>[^\]]*)\\?\].*Cargo\.toml")
_WATCH_TITLE = re.compile(r"\b(?:monitor|watch|tail)\b.*?\bfor\s+(\d+\s*[a-zA-Z]+)", re.I)
_NUMBERING = re.compile(r"^\s*(?:step\s+)?\d+[.):]\s*", re.I)
_WARNING = re.compile(r"\b(WARNING|CAUTION|DANGER|destructive)\b", re.I)
_COMPOSE_TAG = re.compile(r"(docker-compose|compose).*\b(image|tag)\b|\b(image|tag)\b.*compose", re.I)
_UP_WITH_PREVIOUS_TAG = re.compile(
    r"^docker[ -]compose\s+up\b.*?\s([a-z][\w-]*)\s*#.*\bprevious\s+(?:image\s+)?tag\b", re.I
)
_COMPOSE_SERVICE = re.compile(
    r"docker[ -]compose\s+(?:up|down|restart|stop|start)\b.*?\s([a-z][\w-]*)\s*(?:#.*)?$"
)


@dataclass
class Group:
    """Consecutive comment lines, then the commands they describe."""

    comments: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    line: int = 0


@dataclass
class Params:
    """Parameters met so far in a document: name -> declaration (with its source line)."""

    declared: dict[str, ParameterDraft] = field(default_factory=dict)
    shell_vars: dict[str, str] = field(default_factory=dict)  # $NAME -> param name
    assigned: set[str] = field(default_factory=set)  # names the runbook sets itself (loops, $(...))

    def declare(self, name: str, line: int, form: str = "", **fields: Any) -> str:
        """Declare ``name`` made a parameter name (``<previous-tag>`` -> ``previous_tag``)."""
        key = re.sub(r"[^a-z0-9_]", "_", name.lower()).strip("_") or "value"
        if key[0].isdigit():
            key = f"p_{key}"
        return self.declare_exact(key, line, form, **fields)

    def declare_exact(self, name: str, line: int, form: str = "", **fields: Any) -> str:
        """Declare ``name`` as written (``$NAMESPACE`` -> ``NAMESPACE``), renaming a reserved name.

        ``form`` is how the runbook wrote it; a later mention adds what the first lacked.
        """
        key = f"{name.lower()}_value" if is_reserved(name) else name
        draft = self.declared.get(key)
        if draft is None:
            self.declared[key] = ParameterDraft(line, key, form, dict(fields))
            return key
        draft.form = draft.form or form
        for k, v in fields.items():
            draft.fields.setdefault(k, v)
        return key


def safe_value(value: str) -> bool:
    """Whether ``value`` passes the pattern imported parameters get."""
    return bool(_SAFE.match(value))


def is_reserved(name: str) -> bool:
    """A name the shell or the loader owns: never a parameter (PATH, HOME, IFS, LD_*, BASH_*...)."""
    upper = name.upper()
    return upper in _RESERVED or upper.startswith(_RESERVED_PREFIXES)


def split_groups(code: str, first_line: int) -> list[Group]:
    """Split a shell block into comment-led groups; ``first_line`` is the code's first line.

    Only top-level comments split: a ``#`` inside a heredoc, loop, function, ``case`` or
    quoted string belongs to its statement, and statements keep their bytes.
    """
    groups: list[Group] = []
    current = Group(line=first_line)
    previous_end = -2
    for statement in statements(code):
        after_blank = statement.start > previous_end + 1 and previous_end >= 0
        if statement.comment and (current.commands or (after_blank and current.comments)):
            groups.append(current)
            current = Group(line=first_line + statement.start)
        if not current.comments and not current.commands:
            current.line = first_line + statement.start
        if statement.comment:
            current.comments.append(statement.text.strip().lstrip("#").strip())
        else:
            current.commands.append(statement.text)
        previous_end = statement.end
    if current.comments or current.commands:
        groups.append(current)
    return groups


def is_script(code: str) -> bool:
    """A whole script (``#!/bin/bash``) is reference material, not steps."""
    return code.lstrip().startswith("#!")


def scan_variables(code: str, line: int, params: Params) -> None:
    """Declare ``NAME=value`` and Runme ``export NAME=[Prompt]`` as parameters."""
    for statement in statements(code):
        if statement.comment or "\n" in statement.text:
            continue
        text, offset = statement.text.strip(), statement.start
        prompt = _PROMPT.match(text)
        if prompt:
            key = params.declare(prompt.group(1), line + offset, description=prompt.group(2).strip())
            params.shell_vars[prompt.group(1)] = key
            continue
        assign = _ASSIGN.match(text)
        if assign and _literal_assignment(text):
            value = assign.group(2).strip("\"'")
            key = params.declare(assign.group(1), line + offset, **_default_of(value))
            params.shell_vars[assign.group(1)] = key


def _default_of(value: str) -> dict[str, str]:
    """``PREVIOUS_TAG=v1.4.1`` suggests v1.4.1; ``PREVIOUS_TAG=<previous-tag>`` is a blank to fill."""
    placeholder = _ANGLE.fullmatch(value) or re.fullmatch(r"\[[^\]]+\]", value)
    if not value or placeholder or not _SAFE.match(value):
        return {"description": f"written as {value!r} in the source"} if value else {}
    return {"default": value, "example": value}


def _literal_assignment(text: str) -> bool:
    """``NAME=value`` with a literal value; ``NAME=$(cmd)`` is a command that must run."""
    return "$(" not in text and "`" not in text


def substitute(command: str, params: Params, line: int) -> str:
    """Every placeholder becomes a declared parameter.

    ``<name>`` and ``[NAME]`` become ``{{name}}``; ``$NAME`` of a variable the runbook
    assigns a literal becomes ``{{name}}``; ``{{name}}`` is declared as written; any other
    ``$NAME``/``${NAME}`` the runbook never sets is declared as ``NAME`` and kept as written
    (it reaches the command as an environment variable).
    """

    def mustache(match: re.Match[str]) -> str:
        name = match.group(1)
        key = params.declare_exact(name, line, form=match.group(0))
        return match.group(0) if key == name else "{{" + key + "}}"

    def angle(match: re.Match[str]) -> str:
        if f"</{match.group(1)}>" in command:
            return match.group(0)  # markup in a heredoc body, not a placeholder
        return "{{" + params.declare(match.group(1), line, form=match.group(0)) + "}}"

    def square(match: re.Match[str]) -> str:
        inner = match.group(1)
        if re.fullmatch(r"[A-Za-z0-9]-[A-Za-z0-9]", inner):
            return match.group(0)  # a character range such as [A-Z]
        return "{{" + params.declare(inner, line, form=match.group(0)) + "}}"

    command = _MUSTACHE.sub(mustache, command)
    command = _ANGLE.sub(angle, command)
    command = _SQUARE.sub(square, command)
    for var, key in params.shell_vars.items():
        command = re.sub(r"\$\{" + var + r"\}|\$" + var + r"\b", "{{" + key + "}}", command)
    if "$" in command:
        for name in expanded_names(command):
            if name in params.shell_vars or name in params.assigned or is_reserved(name):
                continue
            params.declare_exact(name, line, form=f"${name}")
    return command


def title_of(comments: list[str], fallback: str) -> str:
    text = comments[0] if comments else fallback
    return _NUMBERING.sub("", text).strip() or fallback


def group_to_steps(
    group: Group, params: Params, *, fallback_title: str, context: str, cwd: str | None, prose: str = ""
) -> list[StepDraft]:
    """The steps for one group: usually one; none when it only declared variables.

    Several ``curl -f`` checks are one http check each, ``up -d web  # with previous
    image tag`` is preceded by the compose tag edit it implies, and a command that never
    ends (``kubectl get pods -w``) is a watch step of its own.
    """
    watches = [c for c in group.commands if safety.is_watch(c)]
    if watches and len(group.commands) > 1:
        steps: list[StepDraft] = []
        part = Group(list(group.comments), [], group.line)
        for command in group.commands:
            if command in watches:
                if part.commands:
                    steps += group_to_steps(
                        part, params, fallback_title=fallback_title, context=context, cwd=cwd, prose=prose
                    )
                title = "Watch: " + command.strip()[:60]
                alone = Group([] if part.commands or steps else list(group.comments), [command], group.line)
                steps += group_to_steps(
                    alone, params, fallback_title=title, context=context, cwd=cwd, prose=prose
                )
                part = Group([], [], group.line)
            else:
                part.commands.append(command)
        if part.commands:
            steps += group_to_steps(
                part, params, fallback_title=fallback_title, context=context, cwd=cwd, prose=prose
            )
        return steps
    checks = [c for c in group.commands if _CURL.match(c) and _CURL_FAIL_FLAG.match(c)]
    if len(checks) > 1 and len(checks) == len(group.commands):
        title = title_of(group.comments, fallback_title)
        steps = []
        for command in checks:
            single = Group(group.comments, [command], group.line)
            step = _group_to_step(
                single, params, fallback_title=fallback_title, context=context, cwd=cwd, prose=prose
            )
            if step is not None:
                step.fields["title"] = f"{title}: {command.split()[-1]}"
                steps.append(step)
        return steps
    step = _group_to_step(group, params, fallback_title=fallback_title, context=context, cwd=cwd, prose=prose)
    if step is None:
        return []
    implied = _implied_compose_edit(group, params)
    return [implied, step] if implied else [step]


def _implied_compose_edit(group: Group, params: Params) -> StepDraft | None:
    for command in group.commands:
        match = _UP_WITH_PREVIOUS_TAG.match(command.strip())
        if match:
            service = match.group(1)
            key = params.declare(
                f"previous_{service}_tag", group.line, description=f"Image tag of {service} to roll back to"
            )
            fields = {
                "title": f"Point {service} at the previous image tag",
                "kind": "compose_image",
                "service": service,
                "tag": "{{" + key + "}}",
                "description": f"The runbook says: `{command.strip()}`",
            }
            return StepDraft(group.line, fields)
    return None


def _declares(command: str) -> bool:
    return bool(_PROMPT.match(command) or (_ASSIGN.match(command) and _literal_assignment(command)))


def _group_to_step(
    group: Group, params: Params, *, fallback_title: str, context: str, cwd: str | None, prose: str = ""
) -> StepDraft | None:
    """The step for one group, or None when the group only declared variables."""
    commands = [c for c in group.commands if not _declares(c)]
    dropped = [c for c in group.commands if c not in commands]
    if not commands and (dropped or not group.comments):
        return None  # the group only declared variables: they are parameters now
    warning = next((c for c in group.comments if _WARNING.search(c)), None)
    plain = [c for c in group.comments if c != warning]
    title = title_of(plain, _title_from_warning(warning) if warning and not plain else fallback_title)
    notes = plain[1:]
    step = StepDraft(group.line, {"title": title})
    _gate(step, warning, commands)
    commands = [substitute(c, params, group.line) for c in commands]
    kind = _kind_for(title, group.comments, commands, params, context, group.line, prose)
    step.fields.update(kind.fields)
    step.watch = kind.watch
    if step.fields["kind"] in ("shell", "watch") and cwd:
        step.fields["cwd"] = cwd
    extra = [f"`{c}` (declares a parameter)" for c in dropped]
    if kind.raw:
        extra.append(f"Runbook command: `{kind.raw}`")
    description = "\n".join(notes + extra).strip()
    if description:
        step.fields["description"] = description
    if not commands and not group.comments and not extra:
        return None
    return step


def _gate(step: StepDraft, warning: str | None, commands: list[str]) -> None:
    """A warning comment or a destructive command: the step asks for confirmation."""
    gate = [warning] if warning else []
    reasons = safety.destructive_reasons("\n".join(commands))
    if reasons:
        gate.append("Destructive: " + "; ".join(reasons) + ".")
    if gate:
        step.fields["confirm"] = "\n".join(gate)
        step.fields["destructive"] = True
        step.gate = "; ".join(reasons) or "a warning in the runbook"


@dataclass(frozen=True)
class _Kind:
    """A step's kind and its keys; the command as written (for the description); why a watch."""

    fields: dict[str, Any]
    raw: str | None = None
    watch: str | None = None


def _title_from_warning(warning: str) -> str:
    """``Delete PVC (caution: destructive)`` -> ``Delete PVC``: the comment names the step too."""
    text = re.sub(r"\s*\([^)]*\b(?:caution|warning|danger|destructive)\b[^)]*\)", "", warning, flags=re.I)
    return re.sub(r"^\W*(?:warning|caution|danger)\W*", "", text, flags=re.I).strip() or warning


def _kind_for(
    title: str,
    comments: list[str],
    commands: list[str],
    params: Params,
    context: str,
    line: int,
    prose: str = "",
) -> _Kind:
    if not commands:
        prose = " ".join(comments)
        if _COMPOSE_TAG.search(prose):
            service = _service_from(context) or "{{" + params.declare("service", line) + "}}"
            tag = "{{" + params.declare("previous_tag", line, description="Image tag to roll back to") + "}}"
            return _Kind({"kind": "compose_image", "service": service, "tag": tag})
        return _Kind({"kind": "manual", "instructions": "\n".join(comments[1:]) or title})
    if len(commands) == 1:
        single = commands[0]
        curl = _CURL.match(single)
        if curl and _CURL_FAIL_FLAG.match(single):
            return _Kind({"kind": "http", "url": curl.group(1), "expect_status": 200}, raw=single)
        cargo = _CARGO_EDIT.match(single)
        if cargo:
            features = re.findall(r"[A-Za-z0-9_-]+", cargo.group("old").replace("\\", ""))
            return _Kind({"kind": "cargo_features", "file": "Cargo.toml", "remove": features}, raw=single)
        watch = _WATCH_TITLE.search(title)
        if watch and re.search(r"\s-f\b|--follow|\btail\b", single):
            return _Kind({"kind": "watch", "command": single, "duration": watch.group(1)}, watch="the title")
        if safety.is_watch(single):
            stated = safety.watch_duration(title, " ".join(comments), prose)
            why = "a duration stated in the runbook" if stated else "no duration in the runbook: the default"
            fields = {"kind": "watch", "command": single, "duration": stated or safety.DEFAULT_WATCH}
            return _Kind(fields, watch=why)
    return _Kind({"kind": "shell", "command": "\n".join(commands)})


def _service_from(context: str) -> str | None:
    for line in context.splitlines():
        match = _COMPOSE_SERVICE.search(line.strip())
        if match:
            return match.group(1)
    return None


def cd_target(command: str) -> str | None:
    match = _CD.match(command.strip())
    return match.group(1) if match else None
