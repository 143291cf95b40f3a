"""Markdown runbook -> YAML runbook (the format in docs/runbook-format.md).

Headings become procedures, step groups and reference sections; fenced shell
blocks become steps; tables become the decision matrix, roles, contacts and
alert thresholds; checkboxes and task lists become checklists; untyped fences
under a "templates" heading become communication templates. Whatever is not
understood is kept as reference text, so nothing of the source is lost, and
``report`` says what became what.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..durations import DurationError, parse_window
from ..errors import Location, Problem, RunbookLoadError
from . import shell_blocks as sb
from .blocks import Block, Fence, ListBlock, Paragraph, Quote, Section, Table, parse

_LABEL = re.compile(r"^\*\*(?P<label>[^*]+?):?\*\*:?\s*(?P<value>.*)$")
_INLINE_LABEL = re.compile(r"^(?P<label>[A-Z][A-Za-z /-]{1,30}):\s+(?P<value>.+)$")
_WINDOW_IN_TEXT = re.compile(
    r"(?:<\s*\d+\s*[a-z]+|\d+\s*(?:-|–|to)\s*\d+\s*[a-z]+|within\s+\d+\s*[a-z]+|\d+\s*[a-z]+)", re.I
)
_DEADLINE = re.compile(
    r"\b(?:in|within|after)\s+(\d+\s*(?:s|sec|seconds?|m|min|mins|minutes?|h|hours?))\b", re.I
)
_HEALTH_STATUS = re.compile(r"(/[^\s`]*health[^\s`]*)`?\s+returns\s+(\d{3})", re.I)

_WHEN = {"when to use", "use case", "when", "use when", "trigger"}
_WINDOW = {"recovery time", "time", "rto", "rto target", "target", "duration", "expected time", "eta"}
_SCOPE = {"scope", "impact"}
_SYMPTOMS = {"symptoms", "signs", "indicators"}
_STEPS = {"rollback steps", "steps", "procedure", "rollback process", "actions", "instructions"}
_VERIFY = {"verification", "verify", "validation", "post-checks", "post checks", "checks after"}
_PRECHECK = {"pre-checks", "prechecks", "prerequisites", "before you start", "pre-rollback checks"}
_TEMPLATE_LANGS = {"", "text", "txt", "plain", "plaintext", "md", "markdown", "email"}


@dataclass(frozen=True)
class ReportLine:
    """One line of ``import --report``: a source line and what it became."""

    line: int
    what: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.what}"


@dataclass(frozen=True)
class ImportResult:
    """The YAML text, the data it holds, and how its lines map back to the Markdown."""

    yaml_text: str
    data: dict[str, Any]
    line_map: Callable[[int], int]
    report: tuple[ReportLine, ...]
    source: str


@dataclass
class _Target:
    """Where the next list or fence of a procedure goes."""

    name: str = "steps"  # steps, verification, prechecks, symptoms, text


@dataclass
class _Proc:
    data: dict[str, Any]
    target: _Target = field(default_factory=_Target)
    description: list[str] = field(default_factory=list)


class _Builder:
    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.params = sb.Params()
        self.report: list[ReportLine] = []
        self.procedures: list[dict[str, Any]] = []
        self.matrix: dict[str, Any] | None = None
        self.out: dict[str, list[dict[str, Any]]] = {
            k: [] for k in ("roles", "contacts", "escalation", "alert_thresholds", "checklists", "templates")
        }
        self.reference: list[dict[str, Any]] = []

    # --- sections --------------------------------------------------------

    def section(self, sec: Section) -> None:
        if self._is_container(sec):
            self._keep_own_blocks(sec)
            for child in sec.children:
                self.section(child)
            return
        if self._is_procedure(sec):
            self.procedure(sec)
            return
        self.non_procedure(sec)

    def _is_container(self, sec: Section) -> bool:
        return (
            any(self._is_procedure(c) or self._is_container(c) for c in sec.children)
            and not self._own_window(sec)
            and not any(self._is_step_block(b) for b in sec.blocks)
        )

    def _is_procedure(self, sec: Section) -> bool:
        """Steps of its own, or a stated time window over steps, or sub-headings that are step groups."""
        if any(self._is_step_block(b) for b in sec.blocks):
            return True
        if self._own_window(sec) and self._has_steps(sec, deep=True):
            return True
        step_groups = [c for c in sec.children if any(self._is_step_block(b) for b in c.blocks)]
        return sec.level >= 3 and bool(step_groups) and not any(c.children for c in step_groups)

    def _own_window(self, sec: Section) -> bool:
        return any(
            _label(line)[0] in _WINDOW
            for b in sec.blocks
            if isinstance(b, Paragraph)
            for line in b.text.splitlines()
        )

    def _has_steps(self, sec: Section, *, deep: bool) -> bool:
        if any(self._is_step_block(b) for b in sec.blocks):
            return True
        return deep and any(self._has_steps(c, deep=True) for c in sec.children)

    def _is_step_block(self, block: Block) -> bool:
        if isinstance(block, Fence):
            return _is_shell(block) or _is_cargo_toml(block)
        if isinstance(block, ListBlock):
            return any(self._is_step_block(b) for item in block.items for b in item.blocks)
        return False

    # --- procedures ------------------------------------------------------

    def procedure(self, sec: Section) -> None:
        title = _clean_title(sec.title)
        proc = _Proc({"_line": sec.line, "id": _procedure_id(title), "title": title})
        proc.data.update(steps=[], verification=[], prechecks=[])
        self.report.append(ReportLine(sec.line, f"procedure '{title}'"))
        self._proc_blocks(proc, sec.blocks, heading=title)
        for child in sec.children:
            self._proc_section(proc, child)
        self._finish_procedure(proc)

    def _proc_section(self, proc: _Proc, sec: Section) -> None:
        heading = _clean_title(sec.title)
        proc.target = _Target()
        if not self._has_steps(sec, deep=True):
            proc.description.append(self._raw(sec.line, sec.end_line))
            self.report.append(ReportLine(sec.line, f"kept as text in '{proc.data['title']}': {heading}"))
            return
        shell = [b for b in sec.blocks if isinstance(b, Fence) and _is_shell(b) and not sb.is_script(b.code)]
        if len(shell) == 1 and not any(isinstance(b, ListBlock) for b in sec.blocks):
            # "### Step 2: Promote" over one code block: the heading names the step.
            others = [b for b in sec.blocks if b is not shell[0]]
            self._proc_blocks(proc, others, heading=heading)
            self._steps_from_shell(proc, shell[0], heading, item_title=_step_title(heading))
        else:
            self._proc_blocks(proc, sec.blocks, heading=heading)
        for child in sec.children:
            self._proc_section(proc, child)

    def _proc_blocks(self, proc: _Proc, blocks: list[Block], *, heading: str) -> None:
        for block in blocks:
            if isinstance(block, Paragraph):
                self._proc_paragraph(proc, block)
            elif isinstance(block, Fence):
                self._proc_fence(proc, block, heading)
            elif isinstance(block, ListBlock):
                self._proc_list(proc, block, heading)
            else:
                proc.description.append(self._raw_block(block))

    def _proc_paragraph(self, proc: _Proc, para: Paragraph) -> None:
        for offset, line in enumerate(para.text.splitlines()):
            label, value = _label(line)
            where = para.line + offset
            if label in _WHEN and value:
                proc.data["when"] = _join(proc.data.get("when"), value)
            elif label in _WINDOW and value:
                self._window(proc, value, where)
            elif label in _SCOPE and value:
                proc.data["scope"] = value
            elif label in _SYMPTOMS | _STEPS | _VERIFY | _PRECHECK and not value:
                proc.target = _Target(_target_for(label))
            elif label and not value:
                proc.target = _Target("steps" if label.startswith("command") else "text")
                proc.description.append(line)
            else:
                proc.description.append(line)

    def _window(self, proc: _Proc, value: str, line: int) -> None:
        try:
            parse_window(_strip_md(value))
            proc.data["recovery_window"] = _strip_md(value)
            self.report.append(ReportLine(line, f"recovery window {_strip_md(value)!r}"))
        except DurationError:
            proc.description.append(f"Time: {value}")

    def _proc_fence(self, proc: _Proc, fence: Fence, heading: str) -> None:
        if _is_shell(fence) and not sb.is_script(fence.code):
            self._steps_from_shell(proc, fence, heading, item_title=None)
        elif _is_cargo_toml(fence):
            self._steps_from_toml(proc, fence, heading)
        else:
            proc.description.append(self._raw(fence.line, fence.line + fence.code.count("\n") + 1))
            self.report.append(ReportLine(fence.line, f"kept as text ({fence.lang or 'code'})"))

    def _proc_list(self, proc: _Proc, block: ListBlock, heading: str) -> None:
        target = proc.target.name
        for item in block.items:
            title = _strip_md(item.text).rstrip(":")
            fences = [b for b in item.blocks if isinstance(b, Fence)]
            if fences:
                for fence in fences:
                    if _is_shell(fence) and not sb.is_script(fence.code):
                        self._steps_from_shell(proc, fence, heading, item_title=title, target=target)
                    elif _is_cargo_toml(fence):
                        self._steps_from_toml(proc, fence, heading)
                    else:
                        self._manual(proc, title, item.line, target, code=fence)
                continue
            if target == "symptoms":
                proc.data.setdefault("symptoms", []).append(title)
                self.report.append(ReportLine(item.line, "symptom"))
            elif target == "text":
                proc.description.append(f"- {item.text}")
            else:
                self._manual(proc, title, item.line, target)
            for nested in item.blocks:
                if not isinstance(nested, Fence):
                    proc.description.append(self._raw_block(nested))

    def _manual(self, proc: _Proc, title: str, line: int, target: str, code: Fence | None = None) -> None:
        step: dict[str, Any] = {"_line": line, "title": title, "kind": "manual"}
        if code is not None:
            step["description"] = f"```{code.info}\n{code.code}```"
        self._add_step(proc, step, target if target in ("verification", "prechecks") else "steps")

    def _steps_from_shell(
        self, proc: _Proc, fence: Fence, heading: str, *, item_title: str | None, target: str = "steps"
    ) -> None:
        sb.scan_variables(fence.code, fence.line + 1, self.params)
        groups = sb.split_groups(fence.code, fence.line + 1)
        cwd: str | None = None
        made: list[tuple[dict[str, Any], sb.Group]] = []
        for group in groups:
            group.commands, cwd, cds = _take_cd(group.commands, cwd)
            fallback = item_title or heading
            steps = sb.group_to_steps(
                group, self.params, fallback_title=fallback, context=fence.code, cwd=cwd
            )
            if not steps:
                proc.description.append("\n".join([*(f"# {c}" for c in group.comments), *group.commands]))
                continue
            if cds:
                note = f"Runs in {cwd} (the runbook's `{'; '.join(cds)}`)."
                steps[0]["description"] = _join(steps[0].get("description"), note)
            made.extend((step, group) for step in steps)
        if item_title and len(made) == 1:
            step, group = made[0]
            if group.comments:
                step["description"] = _join(group.comments[0], step.get("description"))
            step["title"] = item_title
        elif item_title:
            for step, _group in made:
                step["description"] = _join(step.get("description"), f"Part of: {item_title}")
        runme_name = fence.attributes.get("name")
        for index, (step, _group) in enumerate(made):
            if runme_name and index == 0:
                step["id"] = _slug(runme_name)
            self._add_step(proc, step, target if target in ("verification", "prechecks") else "steps")

    def _steps_from_toml(self, proc: _Proc, fence: Fence, heading: str) -> None:
        """A Cargo.toml snippet that empties ``default``: an edit step, plus any commands after it."""
        toml_part, commands = _split_toml_and_commands(fence.code)
        removed = re.findall(r"Remove\s+([A-Za-z0-9_-]+)\s+from\s+default", toml_part, re.I)
        comment = next((ln.lstrip("#").strip() for ln in toml_part.splitlines() if ln.startswith("#")), "")
        step: dict[str, Any] = {
            "_line": fence.line + 1,
            "title": _clean_title(comment.split(" - ", 1)[-1]) if comment else heading,
            "kind": "cargo_features",
            "file": "Cargo.toml",
            "description": f"```toml\n{toml_part.strip()}\n```",
        }
        if removed:
            step["remove"] = removed
        else:
            step["set"] = []
        self._add_step(proc, step, "steps")
        if commands:
            start = fence.line + 1 + fence.code[: fence.code.find(commands)].count("\n")
            sub = Fence("bash", commands, start - 1)
            self._steps_from_shell(proc, sub, heading, item_title=None)

    def _add_step(self, proc: _Proc, step: dict[str, Any], target: str) -> None:
        ids = {s["id"] for key in ("prechecks", "steps", "verification") for s in proc.data[key]}
        base = step.get("id") or _slug(step["title"]) or "step"
        step["id"] = _unique(base, ids)
        ordered = {"_line": step["_line"], "id": step["id"], "title": step["title"], "kind": step["kind"]}
        ordered.update({k: v for k, v in step.items() if k not in ordered})
        proc.data[target].append(ordered)
        self.report.append(
            ReportLine(
                step["_line"],
                f"{target[:-1] if target != 'steps' else 'step'} {step['kind']}: {step['title']}",
            )
        )

    def _finish_procedure(self, proc: _Proc) -> None:
        data = proc.data
        description = "\n".join(d for d in proc.description if d.strip()).strip()
        if description:
            data["description"] = description
        for key in ("prechecks", "verification"):
            if not data[key]:
                del data[key]
        if not data["steps"]:
            if data.get("verification"):
                data["steps"], data["verification"] = data.pop("verification"), []
                del data["verification"]
            else:
                self.reference.append(
                    {"_line": data["_line"], "id": data["id"], "title": data["title"], "body": description}
                )
                self.report.append(ReportLine(data["_line"], f"no steps: kept as text: {data['title']}"))
                return
        ids = {p["id"] for p in self.procedures}
        data["id"] = _unique(data["id"], ids)
        self.procedures.append(data)

    # --- everything that is not a procedure -------------------------------

    def non_procedure(self, sec: Section) -> None:
        title = _clean_title(sec.title)
        if not sec.blocks and sec.children:
            for child in sec.children:
                self.section(child)
            return
        handled = False
        for block in sec.blocks:
            if isinstance(block, Table):
                handled |= self._table(block, title)
        if _looks_like(title, "escalation"):
            handled |= self._escalation(sec)
        if _looks_like(title, "template", "communication", "notification", "message"):
            handled |= self._templates(sec)
        if not handled and self._checklist(sec, title):
            handled = True
        if not handled:
            self.reference.append(
                {
                    "_line": sec.line,
                    "id": _slug(title),
                    "title": title,
                    "body": self._raw(sec.line, sec.end_line),
                }
            )
            self.report.append(ReportLine(sec.line, f"kept as text: {title}"))
            return
        leftovers = [b for b in sec.blocks if isinstance(b, Paragraph | Quote)]
        if leftovers:
            body = "\n\n".join(self._raw_block(b) for b in leftovers)
            self.reference.append({"_line": sec.line, "id": _slug(title), "title": title, "body": body})
        for child in sec.children:
            if self._is_procedure(child) or self._is_container(child):
                self.section(child)
            else:
                self.non_procedure(child)

    def _keep_own_blocks(self, sec: Section) -> None:
        for block in sec.blocks:
            if isinstance(block, Table) and self._table(block, _clean_title(sec.title)):
                continue
            title = _clean_title(sec.title)
            self.reference.append(
                {"_line": block.line, "id": _slug(title), "title": title, "body": self._raw_block(block)}
            )

    def _table(self, table: Table, title: str) -> bool:
        head = [h.lower() for h in table.header]
        issue_col = _col(head, "issue", "signal", "problem", "symptom", "trigger", "condition")
        if "action" in " ".join(head) and issue_col is not None:
            self._decision_matrix(table)
            return True
        if _col(head, "metric") is not None and _col(head, "warning", "critical", "threshold") is not None:
            for row, line in zip(table.rows, table.row_lines, strict=False):
                self.out["alert_thresholds"].append(
                    {
                        "_line": line,
                        "metric": _cell(row, _col(head, "metric")),
                        "warning": _cell(row, _col(head, "warning")),
                        "critical": _cell(row, _col(head, "critical")),
                        "action": _cell(row, _col(head, "action")),
                    }
                )
            self.report.append(ReportLine(table.line, "alert thresholds"))
            return True
        if _col(head, "role") is not None and _col(head, "contact", "name") is not None:
            self._people(table, head, "contacts")
            return True
        if _col(head, "role") is not None and _col(head, "responsib") is not None:
            self._people(table, head, "roles")
            return True
        return False

    def _people(self, table: Table, head: list[str], key: str) -> None:
        for row, line in zip(table.rows, table.row_lines, strict=False):
            entry = {"_line": line, "role": _cell(row, _col(head, "role"))}
            for field_name, col in (
                ("responsibilities", _col(head, "responsib")),
                ("name", _col(head, "name")),
                ("contact", _col(head, "contact")),
            ):
                if col is not None:
                    entry[field_name] = _cell(row, col)
            self.out[key].append(entry)
        self.report.append(ReportLine(table.line, key))

    def _decision_matrix(self, table: Table) -> None:
        head = [h.lower() for h in table.header]
        issue_col = _col(head, "issue", "signal", "problem", "symptom", "trigger", "condition") or 0
        rows = []
        for row, line in zip(table.rows, table.row_lines, strict=False):
            issue = _strip_md(_cell(row, issue_col))
            action = _cell(row, _col(head, "action"))
            entry: dict[str, Any] = {"_line": line, "id": _slug(issue), "issue": issue, "action": action}
            for name, col in (
                ("threshold", _col(head, "threshold")),
                ("severity", _col(head, "severity")),
                ("impact", _col(head, "impact")),
            ):
                if col is not None and _cell(row, col):
                    entry[name] = _cell(row, col)
            deadline = _DEADLINE.search(action)
            if deadline:
                entry["deadline"] = deadline.group(1)
            rows.append(entry)
        for entry in rows:
            entry["id"] = _unique(entry["id"], {r["id"] for r in rows if r is not entry and "_final" in r})
            entry["_final"] = True
        self.matrix = {"_line": table.line, "columns": list(table.header), "rows": rows}
        self.report.append(ReportLine(table.line, f"decision matrix ({len(rows)} rows)"))

    def _escalation(self, sec: Section) -> bool:
        lists = [b for b in sec.blocks if isinstance(b, ListBlock)]
        if not lists:
            return False
        for number, item in enumerate(lists[0].items, start=1):
            self.out["escalation"].append({"_line": item.line, "level": number, "who": _strip_md(item.text)})
        self.report.append(ReportLine(sec.line, "escalation path"))
        return True

    def _templates(self, sec: Section) -> bool:
        found = False
        for child in [sec, *sec.children]:
            for block in child.blocks:
                if (
                    isinstance(block, Fence)
                    and block.lang in _TEMPLATE_LANGS
                    and not _is_shell_content(block)
                ):
                    title = _clean_title(child.title)
                    external = _looks_like(title, "external", "user", "customer", "public")
                    self.out["templates"].append(
                        {
                            "_line": block.line,
                            "id": _slug(title),
                            "title": title,
                            "audience": "external" if external else "internal",
                            "body": block.code,
                        }
                    )
                    self.report.append(ReportLine(block.line, f"template: {title}"))
                    found = True
        if found:
            for child in sec.children:
                prose = [b for b in child.blocks if not isinstance(b, Fence)]
                sec.blocks.extend(prose)
            sec.children = []
        return found

    def _checklist(self, sec: Section, title: str) -> bool:
        items: list[dict[str, Any]] = []
        for section in [sec, *_descendants(sec)]:
            for block in section.blocks:
                if isinstance(block, ListBlock):
                    items.extend(
                        _checklist_items(block, _clean_title(section.title) if section is not sec else "")
                    )
        lists = [b for s in [sec, *_descendants(sec)] for b in s.blocks if isinstance(b, ListBlock)]
        has_boxes = any(item.checked is not None for lst in lists for item in lst.items)
        if not items or not (has_boxes or _looks_like(title, *_CHECKLIST_WORDS)):
            return False
        self.out["checklists"].append({"_line": sec.line, "id": _slug(title), "title": title, "items": items})
        self.report.append(ReportLine(sec.line, f"checklist: {title} ({len(items)} items)"))
        for section in [sec, *_descendants(sec)]:
            for block in section.blocks:
                if not isinstance(block, ListBlock | Paragraph):
                    self.reference.append(
                        {
                            "_line": block.line,
                            "id": _slug(title),
                            "title": title,
                            "body": self._raw_block(block),
                        }
                    )
        sec.children = []
        return True

    # --- raw text ----------------------------------------------------------

    def _raw(self, start: int, end: int) -> str:
        """Source lines ``start``..``end`` (1-based, inclusive), without the heading line."""
        body = self.lines[start:end]
        return "\n".join(body).strip("\n")

    def _raw_block(self, block: Block) -> str:
        if isinstance(block, Paragraph | Quote):
            return block.text
        if isinstance(block, Fence):
            return f"```{block.info}\n{block.code}```"
        if isinstance(block, ListBlock):
            return "\n".join(f"- {i.text}" for i in block.items)
        return "\n".join(" | ".join(r) for r in [block.header, *block.rows])


_CHECKLIST_WORDS = ("checklist", "tasks", "plan", "testing", "metrics", "monitor", "after", "todo", "follow")


def _descendants(sec: Section) -> list[Section]:
    out: list[Section] = []
    for child in sec.children:
        out.append(child)
        out.extend(_descendants(child))
    return out


def _checklist_items(block: ListBlock, group: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for item in block.items:
        nested = [b for b in item.blocks if isinstance(b, ListBlock)]
        label = _strip_md(item.text).rstrip(":")
        if nested:
            for inner in nested:
                items.extend(_checklist_items(inner, label))
        else:
            entry: dict[str, Any] = {"_line": item.line, "text": label}
            if group:
                entry["group"] = group
            items.append(entry)
    return items


def _target_for(label: str) -> str:
    if label in _SYMPTOMS:
        return "symptoms"
    if label in _VERIFY:
        return "verification"
    if label in _PRECHECK:
        return "prechecks"
    return "steps"


def _take_cd(commands: list[str], cwd: str | None) -> tuple[list[str], str | None, list[str]]:
    """``cd DIR`` sets the working directory of this and later steps of the block."""
    kept: list[str] = []
    taken: list[str] = []
    for command in commands:
        target = sb.cd_target(command)
        if target and not kept:
            cwd = target if cwd is None else f"{cwd}/{target}"
            taken.append(command)
        else:
            kept.append(command)
    return kept, cwd, taken


def _split_toml_and_commands(code: str) -> tuple[str, str]:
    lines = code.splitlines(keepends=True)
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("#") and i + 1 < len(lines) and _is_command(lines[i + 1]):
            return "".join(lines[:i]), "".join(lines[i:])
        if _is_command(line):
            return "".join(lines[:i]), "".join(lines[i:])
    return code, ""


def _is_command(line: str) -> bool:
    return bool(re.match(r"^\s*(cargo|git|docker|npm|npx|make|\./|sh |bash )", line))


def _is_shell(fence: Fence) -> bool:
    return fence.lang in sb.SHELL_LANGS and (fence.lang != "" or _is_shell_content(fence))


def _is_shell_content(fence: Fence) -> bool:
    """An untyped fence holds commands when most of its lines look like commands."""
    lines = [ln.strip() for ln in fence.code.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if not lines:
        return False
    commandish = sum(1 for ln in lines if re.match(r"^(\./|[a-z][\w.-]*(\s|$))", ln) and ":" not in ln[:12])
    return commandish / len(lines) >= 0.6 and not any(ln.isupper() for ln in lines)


def _is_cargo_toml(fence: Fence) -> bool:
    return (
        fence.lang == "toml"
        and "[features]" in fence.code
        and re.search(r"^default\s*=", fence.code, re.M) is not None
    )


def _label(line: str) -> tuple[str, str]:
    match = _LABEL.match(line.strip())
    if match:
        return match.group("label").strip().rstrip(":").lower(), match.group("value").strip()
    match = _INLINE_LABEL.match(line.strip())
    if match and match.group("label").lower() in _WINDOW | _WHEN | _SCOPE:
        return match.group("label").lower(), match.group("value").strip()
    return "", line


def _strip_md(text: str) -> str:
    text = re.sub(r"\*\*([^*]+)\*\*", r"\1", text)
    text = re.sub(r"(?<!\w)\*([^*]+)\*", r"\1", text)
    return text.strip()


def _clean_title(text: str) -> str:
    text = _strip_md(text)
    return re.sub(r"^(?:\d+[.)]\s*)", "", text).strip()


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", _strip_md(text).lower()).strip("-")
    return slug[:60].rstrip("-") or "item"


def _step_title(heading: str) -> str:
    """``Step 1: Verify (30 seconds)`` -> ``Verify (30 seconds)``."""
    return re.sub(r"^step\s+\d+\s*[:.)-]\s*", "", heading, flags=re.I) or heading


def _procedure_id(title: str) -> str:
    """``Procedure 1: Feature Flag Toggle (Partial Rollback)`` -> ``feature-flag-toggle``."""
    short = re.sub(r"^procedure\s+\d+\s*:\s*", "", title, flags=re.I)
    short = re.sub(r"\s*\([^)]*\)\s*$", "", short)
    return _slug(short or title)


def _unique(base: str, taken: set[str]) -> str:
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def _join(a: str | None, b: str | None) -> str:
    return "\n".join(x for x in (a, b) if x)


def _col(head: list[str], *names: str) -> int | None:
    for i, h in enumerate(head):
        if any(name in h for name in names):
            return i
    return None


def _cell(row: list[str], col: int | None) -> str:
    return row[col] if col is not None and col < len(row) else ""


def _looks_like(title: str, *words: str) -> bool:
    low = title.lower()
    return any(w in low for w in words)


# --- front matter, assembly, YAML ------------------------------------------


def _front_matter(text: str, path: str) -> tuple[dict[str, Any], str, int]:
    if not text.startswith("---"):
        return {}, text, 0
    lines = text.splitlines(keepends=True)
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            try:
                meta = yaml.safe_load("".join(lines[1:i])) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                line = mark.line + 2 if mark else 1
                raise RunbookLoadError(
                    [Problem(Location(path, line, 1), f"front matter is not valid YAML: {exc}")]
                ) from exc
            if not isinstance(meta, dict):
                raise RunbookLoadError([Problem(Location(path, 2, 1), "front matter must be a mapping")])
            return meta, "".join(lines[i + 1 :]), i + 1
    return {}, text, 0


def _link_matrix(builder: _Builder) -> None:
    if builder.matrix is None:
        return
    health_urls = [
        s["url"]
        for p in builder.procedures
        for s in p["steps"] + p.get("verification", [])
        if s["kind"] == "http"
    ]
    for row in builder.matrix["rows"]:
        row.pop("_final", None)
        proc = _best_procedure(row["action"], builder.procedures)
        if proc:
            row["procedure"] = proc
        status = _HEALTH_STATUS.search(row.get("threshold", "") + " " + row["issue"])
        if status:
            url = next((u for u in health_urls if u.endswith(status.group(1))), None)
            if url:
                row["signal"] = {"url": url, "expect_status": int(status.group(2))}


_STOP_WORDS = {
    "rollback",
    "roll",
    "back",
    "the",
    "a",
    "via",
    "if",
    "not",
    "with",
    "to",
    "and",
    "or",
    "in",
    "of",
}


def _best_procedure(action: str, procedures: list[dict[str, Any]]) -> str | None:
    words = set(re.findall(r"[a-z]+", action.lower())) - _STOP_WORDS
    best, score = None, 0
    for proc in procedures:
        title_words = set(re.findall(r"[a-z]+", proc["title"].lower())) - _STOP_WORDS
        overlap = len(words & title_words)
        if overlap > score and overlap >= max(1, len(words) // 2):
            best, score = proc["id"], overlap
    return best


def _assemble(
    builder: _Builder, meta: dict[str, Any], title: str, description: str, path: str
) -> dict[str, Any]:
    data: dict[str, Any] = {"runbook": 1, "id": str(meta.get("id") or _slug(title)), "title": title}
    if description:
        data["description"] = description
    for key in ("owner", "severity"):
        if meta.get(key):
            data[key] = str(meta[key])
    if meta.get("tags"):
        tags = meta["tags"]
        data["tags"] = [str(t) for t in (tags if isinstance(tags, list) else str(tags).split(","))]
    params = []
    for p in builder.params.declared.values():
        entry = {"_line": p["_line"], "name": p["name"]}
        entry.update({k: v for k, v in p.items() if k not in ("_line", "name") and v})
        entry.setdefault("pattern", r"^[^\s;&|`$<>]+$")
        params.append(entry)
    if params:
        data["parameters"] = params
    _link_matrix(builder)
    if builder.matrix:
        data["decision_matrix"] = builder.matrix
    data["procedures"] = builder.procedures
    for key, items in builder.out.items():
        if items:
            data[key] = items
    if builder.reference:
        data["reference"] = _merge_reference(builder.reference)
    return data


def _merge_reference(sections: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for sec in sections:
        if sec["id"] in merged:
            merged[sec["id"]]["body"] = _join(merged[sec["id"]]["body"], sec["body"])
        else:
            merged[sec["id"]] = dict(sec)
    for sec in merged.values():
        sec["body"] = sec["body"] or sec["title"]
    return list(merged.values())


class _Dumper(yaml.SafeDumper):
    """Block scalars for multi-line text so the YAML reads like the Markdown it came from."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _strip_lines(value: Any, marks: list[int]) -> Any:
    """Drop the ``_line`` keys, collecting them in document order for the line map."""
    if isinstance(value, dict):
        if "_line" in value:
            marks.append(value["_line"])
        return {k: _strip_lines(v, marks) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [_strip_lines(v, marks) for v in value]
    return value


def _line_map(yaml_text: str, data: dict[str, Any]) -> Callable[[int], int]:
    """Map YAML lines to Markdown lines through the mappings that carried ``_line``."""
    node = yaml.compose(yaml_text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    pairs: list[tuple[int, int]] = []

    def walk(value: Any, n: Any) -> None:
        if isinstance(value, dict) and isinstance(n, yaml.MappingNode):
            if "_line" in value:
                pairs.append((n.start_mark.line + 1, value["_line"]))
            children = {k.value: v for k, v in n.value}
            for key, sub in value.items():
                if key in children:
                    walk(sub, children[key])
        elif isinstance(value, list) and isinstance(n, yaml.SequenceNode):
            for sub, sub_node in zip(value, n.value, strict=False):
                walk(sub, sub_node)

    walk(data, node)
    pairs.sort()
    keys = [p[0] for p in pairs]

    def line_map(yaml_line: int) -> int:
        i = bisect.bisect_right(keys, yaml_line) - 1
        return pairs[i][1] if i >= 0 else 1

    return line_map


def import_markdown(text: str, path: str) -> ImportResult:
    """Turn Markdown ``text`` (read from ``path``) into a YAML runbook."""
    meta, body, offset = _front_matter(text, path)
    root = parse(body, offset)
    builder = _Builder(text, path)
    top = root.children[0] if len(root.children) == 1 and root.children[0].level == 1 else root
    title = str(meta.get("title") or (top.title if top is not root else Path(path).stem))
    description = "\n\n".join(builder._raw_block(b) for b in top.blocks)
    if top is not root and root.blocks:
        description = _join("\n\n".join(builder._raw_block(b) for b in root.blocks), description)
    if top is not root and any(builder._is_step_block(b) for b in top.blocks):
        builder.procedure(top)  # a document that is one procedure: "# Restart the API" + steps
        description = ""
    else:
        for section in top.children if top is not root else root.children:
            builder.section(section)
    if meta.get("description"):
        description = _join(str(meta["description"]), description)
    data_with_lines = _assemble(builder, meta, _clean_title(title), description, path)
    if not builder.procedures:
        raise RunbookLoadError(
            [
                Problem(
                    Location(path, 1, 1),
                    "found no procedure: no heading has shell code blocks or numbered steps",
                )
            ]
        )
    marks: list[int] = []
    data = _strip_lines(data_with_lines, marks)
    header = f"# Imported from {Path(path).name} by runbook-tui import; edit freely.\n"
    yaml_text = header + yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return ImportResult(
        yaml_text=yaml_text,
        data=data,
        line_map=_line_map(yaml_text, data_with_lines),
        report=tuple(sorted(builder.report, key=lambda r: r.line)),
        source=path,
    )


def import_markdown_file(path: Path) -> ImportResult:
    """Read and import a Markdown runbook; unreadable files raise a located error."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RunbookLoadError(
            [Problem(Location(str(path)), f"cannot read: {exc.strerror or exc}")], unreadable=True
        ) from exc
    if b"\x00" in raw:
        raise RunbookLoadError(
            [Problem(Location(str(path)), "is a binary file, not Markdown")], unreadable=True
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RunbookLoadError(
            [Problem(Location(str(path), line, 1), "is not UTF-8 text; save it as UTF-8")], unreadable=True
        ) from exc
    return import_markdown(text, str(path))
