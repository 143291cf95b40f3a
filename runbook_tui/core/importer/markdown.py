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
import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..durations import DurationError, parse_window
from ..errors import Location, Problem, RunbookLoadError
from . import safety
from . import shell_blocks as sb
from .blocks import Block, Fence, ListBlock, ListItem, Paragraph, Quote, Section, Table, parse
from .shell_parse import assigned_names

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
_WINDOW = {
    "recovery time",
    "time",
    "rto",
    "rto target",
    "target",
    "target time",
    "duration",
    "expected time",
    "expected duration",
    "estimated time",
    "estimated duration",
    "time to recover",
    "time to restore",
    "recovery time objective",
    "eta",
}
_UNIT = r"(?:s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?)"
# "RTO < 5 min", "Target time under 10 minutes": a window stated without a colon.
_WINDOW_SENTENCE = re.compile(
    r"^\W*(?:RTO|recovery time|target(?: time)?|estimated time)\s*(?:<|≤|<=|under|below)\s*"
    r"(\d+\s*" + _UNIT + r")\b",
    re.I,
)
# "## Restart the API (5 min)": a time in a procedure's heading.
_HEADING_TIME = re.compile(
    r"\(\s*(?:~|about\s+|<\s*)?(\d+(?:\s*(?:-|–|to)\s*\d+)?\s*" + _UNIT + r")\s*\)\s*$", re.I
)
# Alternatives: "Option A", "Method 2", "Alternative 1", "Approach B".
_OPTION = re.compile(r"^\W*(?:option|method|alternative|approach|choice)\s+([A-Z0-9]{1,3})\b", re.I)
_OR = re.compile(r"^\W*(?:or|alternatively)\b[,:]?\s*(?P<rest>.*?)[:.]?\**$", re.I)
_STEP_HEADING = re.compile(r"^\W*(?:step\s+\d+|\d+[.)])", re.I)
_EXPECTED = re.compile(r"^\W*(?:expected|example|sample)\s+(?:output|result|response)\b", re.I)
_ANTI = re.compile(
    r"^\W*(?:don'?t|do not|never)\s+(?:do|run|use|try)\s+this\b"
    r"|^\W*(?:wrong|bad)(?:\s+example)?\s*:|^\W*anti-?pattern\b|^❌",
    re.I,
)
_FRONT_WINDOW = ("rto", "recovery_time", "recovery_window", "estimated_time", "target_time", "time")
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
    alt: tuple[int, str] | None = None  # the option the next steps belong to
    alt_once: bool = False  # an "Or ..." option covers only the next block
    alt_groups: int = 0
    not_steps: str | None = None  # "Expected output" / "Don't do this": the next block is text
    warnings: list[str] = field(default_factory=list)  # prose warnings for the next block
    prose: str = ""  # the last paragraph, for durations stated next to a block
    last_steps: list[dict[str, Any]] = field(default_factory=list)


class _Builder:
    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.params = sb.Params()
        prose = _prose_numbers(self.lines)
        code = "\n".join(t for n, t in enumerate(self.lines, start=1) if n not in prose)
        self.params.assigned = assigned_names(code)
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
            and not self._step_headings(sec)
        )

    def _step_headings(self, sec: Section) -> bool:
        """Children headed "Step N", "1.", "Option A" or "Method 2", all leaf step groups: one procedure."""
        groups = [c for c in sec.children if any(self._is_step_block(b) for b in c.blocks)]
        if len(groups) < 2 or any(c.children for c in groups):
            return False
        if all(_OPTION.match(c.title) or re.match(r"^\W*step\s+\d+", c.title, re.I) for c in groups):
            return True
        # "### 1. Drain" over one command is a step; "### 1. Application Rollback" over a
        # block of several commented steps is a procedure of its own.
        return all(_STEP_HEADING.match(c.title) and self._one_step(c) for c in groups)

    def _one_step(self, sec: Section) -> bool:
        fences = [b for b in sec.blocks if isinstance(b, Fence)]
        return len(fences) == 1 and len(sb.split_groups(fences[0].code, 1)) <= 1

    def _is_procedure(self, sec: Section) -> bool:
        """Steps of its own, or a stated time window over steps, or sub-headings that are step groups."""
        if any(self._is_step_block(b) for b in sec.blocks):
            return True
        if self._own_window(sec) and self._has_steps(sec, deep=True):
            return True
        if self._step_headings(sec):
            return True
        step_groups = [c for c in sec.children if any(self._is_step_block(b) for b in c.blocks)]
        return sec.level >= 3 and bool(step_groups) and not any(c.children for c in step_groups)

    def _own_window(self, sec: Section) -> bool:
        return bool(_HEADING_TIME.search(_strip_md(sec.title))) or any(
            _label(line)[0] in _WINDOW or _WINDOW_SENTENCE.match(line)
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
            return any(self._is_step_block(b) for item in block.items for b in item.blocks) or (
                block.ordered and any(_inline_commands(item.text) for item in block.items)
            )
        return False

    # --- procedures ------------------------------------------------------

    def procedure(self, sec: Section) -> None:
        title = _clean_title(sec.title)
        proc = _Proc({"_line": sec.line, "id": _procedure_id(title), "title": title})
        proc.data.update(steps=[], verification=[], prechecks=[])
        self.report.append(ReportLine(sec.line, f"procedure '{title}'"))
        self._proc_blocks(proc, sec.blocks, heading=title)
        heading_time = _HEADING_TIME.search(_strip_md(sec.title))
        if heading_time and "recovery_window" not in proc.data:
            self._window(proc, heading_time.group(1), sec.line)
        self._proc_children(proc, sec.children)
        self._finish_procedure(proc)

    def _proc_children(self, proc: _Proc, children: list[Section]) -> None:
        options = [c for c in children if _OPTION.match(c.title) and self._has_steps(c, deep=True)]
        if len(options) >= 2:
            proc.alt_groups += 1
        for child in children:
            if len(options) >= 2 and child in options:
                proc.alt = (proc.alt_groups, _clean_title(child.title))
                self._proc_section(proc, child)
                proc.alt = None
            else:
                self._proc_section(proc, child)

    def _proc_section(self, proc: _Proc, sec: Section) -> None:
        heading = _clean_title(sec.title)
        proc.target = _Target()
        proc.warnings, proc.not_steps = [], None  # prose of one section never reaches into the next
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
        self._proc_children(proc, sec.children)

    def _proc_blocks(self, proc: _Proc, blocks: list[Block], *, heading: str) -> None:
        for index, block in enumerate(blocks):
            if isinstance(block, Paragraph):
                self._proc_paragraph(proc, block)
            elif isinstance(block, Fence):
                if not any(isinstance(b, Fence) for b in blocks[index + 1 :]):
                    # A warning written after the last block of a section is about that block.
                    for after in blocks[index + 1 :]:
                        if isinstance(after, Paragraph | Quote) and safety.warning_text(after.text):
                            proc.warnings.append(safety.warning_text(after.text) or "")
                self._proc_fence(proc, block, heading)
            elif isinstance(block, ListBlock):
                self._proc_list(proc, block, heading)
            else:
                if isinstance(block, Quote) and safety.warning_text(block.text):
                    proc.warnings.append(safety.warning_text(block.text) or "")
                proc.description.append(self._raw_block(block))

    def _proc_paragraph(self, proc: _Proc, para: Paragraph) -> None:
        known = _WHEN | _WINDOW | _SCOPE | _SYMPTOMS | _STEPS | _VERIFY | _PRECHECK
        labelled = any(_label(line)[0] in known for line in para.text.splitlines())
        if not labelled and self._prose_marks(proc, para.text, para.line):
            proc.description.append(para.text)
            return
        for offset, line in enumerate(para.text.splitlines()):
            label, value = _label(line)
            where = para.line + offset
            if label in _WHEN and value:
                proc.data["when"] = _join(proc.data.get("when"), value)
            elif label in _WINDOW and value:
                self._window(proc, value, where)
            elif _WINDOW_SENTENCE.match(line) and "recovery_window" not in proc.data:
                self._window(proc, "< " + _WINDOW_SENTENCE.match(line).group(1), where)  # type: ignore[union-attr]
                proc.description.append(line)
            elif label in _SCOPE and value:
                proc.data["scope"] = value
            elif label in _SYMPTOMS | _STEPS | _VERIFY | _PRECHECK and not value:
                proc.target = _Target(_target_for(label))
            elif label and not value:
                proc.target = _Target("steps" if label.startswith("command") else "text")
                proc.description.append(line)
            else:
                proc.description.append(line)

    def _prose_marks(self, proc: _Proc, text: str, line: int) -> bool:
        """Prose that changes what the next block is: a warning, an alternative, an example.

        True when the paragraph was one of those (it is kept as description text).
        """
        plain = _strip_md(text).strip()
        proc.prose = plain
        warning = safety.warning_text(text)
        if warning:
            proc.warnings.append(warning)
            return True
        if _EXPECTED.match(plain) or _ANTI.match(plain):
            proc.not_steps = plain.rstrip(":")
            return True
        option = _OPTION.match(plain)
        if option:
            if proc.alt is None or proc.alt_once:
                proc.alt_groups += 1
            proc.alt, proc.alt_once = (proc.alt_groups, plain.rstrip(":")), False
            return True
        alternative = _OR.match(plain)
        if alternative and proc.last_steps and len(plain) < 120:
            if not any("_alt" in s for s in proc.last_steps):
                proc.alt_groups += 1
                first = (proc.alt_groups, proc.last_steps[0]["title"])
                for step in proc.last_steps:
                    step["_alt"] = first
            group = proc.last_steps[0]["_alt"][0]
            proc.alt, proc.alt_once = (group, alternative.group("rest") or plain), True
            self.report.append(ReportLine(line, f"alternative: {plain!r} starts another option"))
            return True
        return False

    def _window(self, proc: _Proc, value: str, line: int) -> None:
        try:
            parse_window(_strip_md(value))
            proc.data["recovery_window"] = _strip_md(value)
            self.report.append(ReportLine(line, f"recovery window {_strip_md(value)!r}"))
        except DurationError:
            proc.description.append(f"Time: {value}")

    def _proc_fence(self, proc: _Proc, fence: Fence, heading: str) -> None:
        if proc.not_steps:
            label, proc.not_steps = proc.not_steps, None
            proc.description.append(self._raw(fence.line - 1, fence.line + fence.code.count("\n") + 1))
            self.report.append(ReportLine(fence.line, f"kept as text, not run: {label!r} example"))
            return
        if _is_shell(fence) and not sb.is_script(fence.code):
            self._steps_from_shell(proc, fence, heading, item_title=None)
        elif _is_cargo_toml(fence):
            self._steps_from_toml(proc, fence, heading)
        else:
            proc.description.append(self._raw(fence.line, fence.line + fence.code.count("\n") + 1))
            self.report.append(ReportLine(fence.line, f"kept as text ({fence.lang or 'code'})"))

    def _proc_list(self, proc: _Proc, block: ListBlock, heading: str) -> None:
        target = proc.target.name
        options = [i for i in block.items if _OPTION.match(_strip_md(i.text))]
        if len(options) >= 2:
            proc.alt_groups += 1
        for item in block.items:
            title = _strip_md(item.text).rstrip(":")
            if len(options) >= 2:
                # "1. Option A: ..." items are alternatives too; items that are not options are shared.
                proc.alt = (proc.alt_groups, title) if item in options else None
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
            inline = _inline_commands(item.text) if block.ordered else []
            if inline and target != "text":
                self._steps_from_inline(proc, item, inline, heading, target)
            elif target == "symptoms":
                proc.data.setdefault("symptoms", []).append(title)
                self.report.append(ReportLine(item.line, "symptom"))
            elif target == "text":
                proc.description.append(f"- {item.text}")
            else:
                self._manual(proc, title, item.line, target)
            for nested in item.blocks:
                if not isinstance(nested, Fence):
                    proc.description.append(self._raw_block(nested))
        if len(options) >= 2:
            proc.alt = None

    def _steps_from_inline(
        self, proc: _Proc, item: ListItem, commands: list[str], heading: str, target: str
    ) -> None:
        """``3. Roll back: `helm rollback worker <revision>` `` -> a shell step running that code."""
        before = _strip_md(item.text.split("`", 1)[0]).strip().rstrip(":").strip()
        title = re.sub(r"\s+(?:with|using|by running|run)$", "", before, flags=re.I) or commands[0]
        fence = Fence("bash", "\n".join(commands) + "\n", item.line - 1)
        self._steps_from_shell(proc, fence, heading, item_title=title, target=target)
        for step in proc.last_steps:
            step["description"] = _join(step.get("description"), item.text)
        self.report.append(ReportLine(item.line, "step from inline code in a numbered list"))

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
                group, self.params, fallback_title=fallback, context=fence.code, cwd=cwd, prose=proc.prose
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
        self._prose_gates(proc, [step for step, _group in made])
        stored = []
        for index, (step, _group) in enumerate(made):
            if runme_name and index == 0:
                step["id"] = _slug(runme_name)
            if proc.alt is not None:
                step["_alt"] = proc.alt
            stored.append(
                self._add_step(proc, step, target if target in ("verification", "prechecks") else "steps")
            )
        proc.last_steps = stored
        proc.prose = ""
        if proc.alt_once:
            proc.alt, proc.alt_once = None, False

    def _prose_gates(self, proc: _Proc, steps: list[dict[str, Any]]) -> None:
        """Warnings written next to a block become the confirmation of its destructive steps
        (of its first step when the classifier found nothing destructive in it)."""
        if not proc.warnings or not steps:
            return
        warning = "\n".join(dict.fromkeys(proc.warnings))
        proc.warnings = []
        gated = [s for s in steps if s.get("destructive")] or steps[:1]
        for step in gated:
            step["confirm"] = _join(warning, step.get("confirm"))
            step["destructive"] = True
            step["_gate"] = _join(step.get("_gate"), f"warning in the runbook: {warning}").replace("\n", "; ")

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

    def _add_step(self, proc: _Proc, step: dict[str, Any], target: str) -> dict[str, Any]:
        if proc.alt is not None:
            step.setdefault("_alt", proc.alt)
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
        if step.get("_gate"):
            self.report.append(ReportLine(step["_line"], f"gated '{step['title']}': {step['_gate']}"))
        if step.get("_watch"):
            self.report.append(
                ReportLine(
                    step["_line"],
                    f"watch `{step['command']}` for {step['duration']} ({step['_watch']}): "
                    "it never ends by itself",
                )
            )
        return ordered

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
        for variant in self._alternatives(data):
            ids = {p["id"] for p in self.procedures}
            variant["id"] = _unique(variant["id"], ids)
            self.procedures.append(variant)

    def _alternatives(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        """One procedure per option: the shared steps plus that option's, never two options in a row."""
        keys = ("prechecks", "steps", "verification")
        options = list(dict.fromkeys(s["_alt"] for k in keys for s in data.get(k, []) if "_alt" in s))
        if len(options) < 2:
            return [data]
        variants = []
        for option in options:
            variant = copy.deepcopy(data)
            for key in keys:
                if key in variant:
                    variant[key] = [s for s in variant[key] if s.get("_alt", option) == option]
            variant["title"] = f"{data['title']}: {option[1]}"
            variant["id"] = _slug(variant["title"])
            variants.append(variant)
            self.report.append(
                ReportLine(
                    data["_line"],
                    f"alternative: procedure '{variant['title']}' holds option {option[1]!r} only "
                    f"({len(options)} options, never run one after another)",
                )
            )
        return variants

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
        actions = _col(head, "action", "response", "what to do", "remediation") is not None
        warn_crit = _col(head, "warning") is not None and _col(head, "critical") is not None
        if actions and (
            issue_col is not None or (_col(head, "metric", "alert") is not None and not warn_crit)
        ):
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
        issue_col = _col(
            head, "issue", "signal", "problem", "symptom", "trigger", "condition", "metric", "alert"
        )
        issue_col = issue_col or 0
        action_col = _col(head, "action", "response", "what to do", "remediation")
        rows = []
        for row, line in zip(table.rows, table.row_lines, strict=False):
            issue = _strip_md(_cell(row, issue_col))
            action = _cell(row, action_col) or "(no action written)"
            entry: dict[str, Any] = {"_line": line, "id": _slug(issue), "issue": issue, "action": action}
            for name, col in (
                ("threshold", _col(head, "threshold", "condition", "value", "limit")),
                ("severity", _col(head, "severity")),
                ("impact", _col(head, "impact")),
            ):
                if col is not None and _cell(row, col):
                    entry[name] = _cell(row, col)
            deadline = _DEADLINE.search(action)
            if deadline:
                entry["deadline"] = deadline.group(1)
            rows.append(entry)
        if self.matrix is not None:
            rows = self.matrix["rows"] + rows  # a second decision table adds its rows
        for entry in rows:
            entry["id"] = _unique(entry["id"], {r["id"] for r in rows if r is not entry and "_final" in r})
            entry["_final"] = True
        columns = self.matrix["columns"] if self.matrix else list(table.header)
        self.matrix = {
            "_line": self.matrix["_line"] if self.matrix else table.line,
            "columns": columns,
            "rows": rows,
        }
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

    # --- parameters -------------------------------------------------------

    def describe_parameters(self) -> None:
        """A description from the text around each placeholder; prose values become suggestions."""
        prose = _prose_lines(self.lines)
        for param in self.params.declared.values():
            name, form = param["name"], param.get("_form") or ""
            word = re.compile(r"(?<![\w-])" + re.sub(r"[_-]", "[ _-]", re.escape(name)) + r"(?![\w-])", re.I)
            mentions = [(n, t) for n, t in prose if (form and form in t) or word.search(t)]
            mentions.sort(key=lambda m: not (form and form in m[1]))
            if mentions and not param.get("description"):
                param["description"] = _strip_md(mentions[0][1]).replace("`", "")[:200]
            elif not param.get("description"):
                param["description"] = (
                    f"Fill in {form or name}: a placeholder in the runbook (line {param['_line']})"
                )
            said = _suggestion(name, mentions)
            if said and "default" not in param:
                param["suggestion"], param["_said"] = said
            example = next((m.group(1) for _n, t in mentions[:1] if (m := _EXAMPLE.search(t))), None)
            if example and sb.safe_value(example):
                param.setdefault("example", example)
            self.report.append(ReportLine(param["_line"], _param_why(param)))

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


_EXAMPLE = re.compile(r"\b(?:for example|e\.g\.|such as|like)\s*,?\s*`([^`\s]+)`", re.I)


def _prose_lines(lines: list[str]) -> list[tuple[int, str]]:
    """(line number, text) of every line outside fenced code."""
    out: list[tuple[int, str]] = []
    fence = ""
    for number, text in enumerate(lines, start=1):
        mark = re.match(r"^\s*(`{3,}|~{3,})", text)
        if mark and (not fence or mark.group(1)[0] == fence[0]):
            fence = "" if fence else mark.group(1)
            continue
        if not fence and text.strip():
            out.append((number, text))
    return out


def _prose_numbers(lines: list[str]) -> set[int]:
    """Line numbers outside fenced code, fence marks included."""
    prose = {n for n, _t in _prose_lines(lines)}
    prose.update(n for n, t in enumerate(lines, start=1) if re.match(r"^\s*(`{3,}|~{3,})", t))
    return prose


def _suggestion(name: str, mentions: list[tuple[int, str]]) -> tuple[str, int] | None:
    """``NAMESPACE is `payments``` -> (payments, line): a value the prose gives, to pre-fill."""
    spelled = re.sub(r"[_-]", "[ _-]", re.escape(name))
    said = re.compile(
        r"(?<![\w-])`?(?:\$\{?|<|\[)?"
        + spelled
        + r"(?:\}|>|\])?`?\s*(?:is|=|should be|defaults to|:)\s*`([^`\s]+)`",
        re.I,
    )
    for number, text in mentions:
        match = said.search(text)
        if match and sb.safe_value(match.group(1)):
            return match.group(1), number
    return None


def _param_why(param: dict[str, Any]) -> str:
    form = param.get("_form") or param["name"]
    text = f"parameter {param['name']}: from `{form}`"
    if "default" in param:
        return text + f", default {param['default']!r} (assigned in the runbook)"
    text += ", not set by the runbook: asked before the run"
    if "suggestion" in param:
        text += f"; suggested {param['suggestion']!r} (line {param['_said']}), pre-filled, never used unasked"
    return text


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


_COMMANDS = frozenset(
    [
        "kubectl",
        "oc",
        "helm",
        "docker",
        "podman",
        "git",
        "aws",
        "gcloud",
        "az",
        "redis-cli",
        "psql",
        "mysql",
        "mongo",
        "mongosh",
        "systemctl",
        "service",
        "journalctl",
        "curl",
        "wget",
        "ssh",
        "scp",
        "rsync",
        "terraform",
        "alembic",
        "npm",
        "npx",
        "yarn",
        "pnpm",
        "make",
        "cargo",
        "pg_restore",
        "pg_dump",
        "pg_ctl",
        "patronictl",
        "tail",
        "watch",
        "sudo",
        "kill",
        "pkill",
        "rm",
        "cp",
        "mv",
        "ls",
        "cat",
        "grep",
        "sed",
        "awk",
        "velero",
        "flux",
        "argocd",
        "vault",
        "consul",
        "nomad",
        "ansible",
        "ansible-playbook",
        "python",
        "python3",
        "bash",
        "sh",
        "export",
        "cd",
        "stern",
        "k9s",
        "istioctl",
    ]
)


def _inline_commands(text: str) -> list[str]:
    """Inline code spans of a list item that are commands (``kubectl ...``, ``./x.sh``)."""
    out = []
    for code in re.findall(r"`([^`\n]+)`", text):
        code = code.strip()
        first = code.split(" ", 1)[0]
        if " " in code and (first in _COMMANDS or first.startswith(("./", "/", "~/"))):
            out.append(code)
    return out


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


def _front_matter_window(builder: _Builder, meta: dict[str, Any]) -> None:
    """``rto: 15 minutes`` in front matter: the window of every procedure that states none."""
    key = next((k for k in _FRONT_WINDOW if meta.get(k) is not None), None)
    if key is None:
        return
    value = str(meta[key]).strip()
    try:
        parse_window(value)
    except DurationError:
        builder.report.append(ReportLine(1, f"front matter {key}: {value!r} is not a duration; ignored"))
        return
    for proc in builder.procedures:
        if "recovery_window" not in proc:
            proc["recovery_window"] = value
            builder.report.append(
                ReportLine(proc["_line"], f"recovery window {value!r} (front matter {key})")
            )


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
    best, score, tied = None, 0, False
    for proc in procedures:
        title_words = set(re.findall(r"[a-z]+", proc["title"].lower())) - _STOP_WORDS
        overlap = len(words & title_words)
        if overlap > score and overlap >= max(1, len(words) // 2):
            best, score, tied = proc["id"], overlap, False
        elif overlap == score and best is not None:
            tied = True  # names several procedures equally (alternatives): link none
    return None if tied else best


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
    builder.describe_parameters()
    for p in builder.params.declared.values():
        entry = {"_line": p["_line"], "name": p["name"]}
        entry.update({k: v for k, v in p.items() if k not in ("_line", "name") and v})
        entry.setdefault("pattern", sb.SAFE_PATTERN)
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
    _front_matter_window(builder, meta)
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
