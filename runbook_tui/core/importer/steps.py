"""Steps of a procedure: from shell blocks, Cargo.toml snippets, inline commands of a
numbered list and plain list items; ids, alternatives and the gates prose warnings set."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from . import shell_blocks as sb
from .blocks import Fence, ListItem
from .drafts import Context, Option, ProcedureDraft, StepDraft
from .text import clean_title, join, slug, strip_md, unique


@dataclass
class ProcedureState:
    """A procedure being read, and where its next list or block goes."""

    draft: ProcedureDraft
    target: str = "steps"  # steps, verification, prechecks, symptoms, text
    description: list[str] = field(default_factory=list)
    alt: Option | None = None  # the option the next steps belong to
    alt_once: bool = False  # an "Or ..." option covers only the next block
    alt_groups: int = 0
    not_steps: str | None = None  # "Expected output" / "Don't do this": the next block is text
    warnings: list[str] = field(default_factory=list)  # prose warnings for the next block
    prose: str = ""  # the last paragraph, for durations stated next to a block
    last_steps: list[StepDraft] = field(default_factory=list)


def _step_list(target: str) -> str:
    return target if target in ("verification", "prechecks") else "steps"


def steps_from_shell(
    proc: ProcedureState,
    ctx: Context,
    fence: Fence,
    heading: str,
    *,
    item_title: str | None,
    target: str = "steps",
) -> None:
    """The steps of a shell block: one per comment-led group, ``cd`` carried as their cwd."""
    sb.scan_variables(fence.code, fence.line + 1, ctx.params)
    made = _shell_groups(proc, ctx, fence, item_title or heading)
    if item_title and len(made) == 1:
        step, group = made[0]
        if group.comments:
            step.fields["description"] = join(group.comments[0], step.fields.get("description"))
        step.fields["title"] = item_title
    elif item_title:
        for step, _group in made:
            step.fields["description"] = join(step.fields.get("description"), f"Part of: {item_title}")
    steps = [step for step, _group in made]
    _prose_gates(proc, steps)
    runme_name = fence.attributes.get("name")
    if runme_name and steps:
        steps[0].fields["id"] = slug(runme_name)
    for step in steps:
        if proc.alt is not None:
            step.alt = proc.alt
        add_step(proc, ctx, step, _step_list(target))
    proc.last_steps = steps
    proc.prose = ""
    if proc.alt_once:
        proc.alt, proc.alt_once = None, False


def _shell_groups(
    proc: ProcedureState, ctx: Context, fence: Fence, fallback: str
) -> list[tuple[StepDraft, sb.Group]]:
    cwd: str | None = None
    made: list[tuple[StepDraft, sb.Group]] = []
    for group in sb.split_groups(fence.code, fence.line + 1):
        group.commands, cwd, cds = _take_cd(group.commands, cwd)
        steps = sb.group_to_steps(
            group, ctx.params, fallback_title=fallback, context=fence.code, cwd=cwd, prose=proc.prose
        )
        if not steps:
            proc.description.append("\n".join([*(f"# {c}" for c in group.comments), *group.commands]))
            continue
        if cds:
            note = f"Runs in {cwd} (the runbook's `{'; '.join(cds)}`)."
            steps[0].fields["description"] = join(steps[0].fields.get("description"), note)
        made.extend((step, group) for step in steps)
    return made


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


def _prose_gates(proc: ProcedureState, steps: list[StepDraft]) -> None:
    """Warnings written next to a block become the confirmation of its destructive steps
    (of its first step when the classifier found nothing destructive in it)."""
    if not proc.warnings or not steps:
        return
    warning = "\n".join(dict.fromkeys(proc.warnings))
    proc.warnings = []
    gated = [s for s in steps if s.fields.get("destructive")] or steps[:1]
    for step in gated:
        step.fields["confirm"] = join(warning, step.fields.get("confirm"))
        step.fields["destructive"] = True
        step.gate = join(step.gate, f"warning in the runbook: {warning}").replace("\n", "; ")


def steps_from_inline(
    proc: ProcedureState, ctx: Context, item: ListItem, commands: list[str], heading: str, target: str
) -> None:
    """``3. Roll back: `helm rollback worker <revision>` `` -> a shell step running that code."""
    before = strip_md(item.text.split("`", 1)[0]).strip().rstrip(":").strip()
    title = re.sub(r"\s+(?:with|using|by running|run)$", "", before, flags=re.I) or commands[0]
    fence = Fence("bash", "\n".join(commands) + "\n", item.line - 1)
    steps_from_shell(proc, ctx, fence, heading, item_title=title, target=target)
    for step in proc.last_steps:
        step.fields["description"] = join(step.fields.get("description"), item.text)
    ctx.note(item.line, "step from inline code in a numbered list")


def manual_step(
    proc: ProcedureState, ctx: Context, title: str, line: int, target: str, code: Fence | None = None
) -> None:
    """A list item without commands: a manual step (with the code it shows, if any)."""
    fields: dict[str, Any] = {"title": title, "kind": "manual"}
    if code is not None:
        fields["description"] = f"```{code.info}\n{code.code}```"
    add_step(proc, ctx, StepDraft(line, fields), _step_list(target))


def steps_from_toml(proc: ProcedureState, ctx: Context, fence: Fence, heading: str) -> None:
    """A Cargo.toml snippet that empties ``default``: an edit step, plus any commands after it."""
    toml_part, commands = _split_toml_and_commands(fence.code)
    removed = re.findall(r"Remove\s+([A-Za-z0-9_-]+)\s+from\s+default", toml_part, re.I)
    comment = next((ln.lstrip("#").strip() for ln in toml_part.splitlines() if ln.startswith("#")), "")
    fields: dict[str, Any] = {
        "title": clean_title(comment.split(" - ", 1)[-1]) if comment else heading,
        "kind": "cargo_features",
        "file": "Cargo.toml",
        "description": f"```toml\n{toml_part.strip()}\n```",
    }
    if removed:
        fields["remove"] = removed
    else:
        fields["set"] = []
    add_step(proc, ctx, StepDraft(fence.line + 1, fields), "steps")
    if commands:
        start = fence.line + 1 + fence.code[: fence.code.find(commands)].count("\n")
        steps_from_shell(proc, ctx, Fence("bash", commands, start - 1), heading, item_title=None)


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


def add_step(proc: ProcedureState, ctx: Context, step: StepDraft, target: str) -> None:
    """Append ``step`` to the procedure's ``target`` list with an id unique in the procedure."""
    if proc.alt is not None and step.alt is None:
        step.alt = proc.alt
    ids = {s.fields["id"] for steps in proc.draft.step_lists() for s in steps}
    base = step.fields.get("id") or slug(step.title) or "step"
    first = {"id": unique(base, ids), "title": step.fields["title"], "kind": step.fields["kind"]}
    step.fields = first | {k: v for k, v in step.fields.items() if k not in first}
    proc.draft.fields[target].append(step)
    _report_step(ctx, step, target)


def _report_step(ctx: Context, step: StepDraft, target: str) -> None:
    kind = step.fields["kind"]
    ctx.note(step.line, f"{target[:-1] if target != 'steps' else 'step'} {kind}: {step.title}")
    if step.gate:
        ctx.note(step.line, f"gated '{step.title}': {step.gate}")
    if step.watch:
        command, duration = step.fields["command"], step.fields["duration"]
        ctx.note(step.line, f"watch `{command}` for {duration} ({step.watch}): it never ends by itself")
