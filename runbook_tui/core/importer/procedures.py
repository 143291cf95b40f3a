"""A procedure from a heading: its prose (when to use, window, scope, warnings, alternatives),
its lists and blocks read into steps, and one procedure per alternative at the end."""

from __future__ import annotations

import copy

from ..durations import DurationError, parse_window
from . import classify as cl
from . import safety
from .blocks import Block, Fence, ListBlock, ListItem, Paragraph, Quote, Section
from .drafts import Context, Entry, ProcedureDraft
from .steps import ProcedureState, manual_step, steps_from_inline, steps_from_shell, steps_from_toml
from .text import clean_title, join, procedure_id, raw_block, slug, step_title, strip_md, unique

_STEP_KEYS = ("prechecks", "steps", "verification")


class ProcedureReader:
    """Reads headings into procedures; what has no steps goes to ``reference``."""

    def __init__(self, ctx: Context, procedures: list[ProcedureDraft], reference: list[Entry]) -> None:
        self.ctx = ctx
        self.procedures = procedures
        self.reference = reference

    def read(self, sec: Section) -> None:
        """The procedure of ``sec`` and everything under it."""
        title = clean_title(sec.title)
        draft = ProcedureDraft(sec.line, {"id": procedure_id(title), "title": title})
        draft.fields.update(steps=[], verification=[], prechecks=[])
        proc = ProcedureState(draft)
        self.ctx.note(sec.line, f"procedure '{title}'")
        self._blocks(proc, sec.blocks, heading=title)
        heading_time = cl.HEADING_TIME.search(strip_md(sec.title))
        if heading_time and "recovery_window" not in draft.fields:
            self._window(proc, heading_time.group(1), sec.line)
        self._children(proc, sec.children)
        self._finish(proc)

    # --- sections under the procedure's heading ----------------------------

    def _children(self, proc: ProcedureState, children: list[Section]) -> None:
        options = [c for c in children if cl.OPTION.match(c.title) and cl.has_steps(c, deep=True)]
        if len(options) >= 2:
            proc.alt_groups += 1
        for child in children:
            if len(options) >= 2 and child in options:
                proc.alt = (proc.alt_groups, clean_title(child.title))
                self._section(proc, child)
                proc.alt = None
            else:
                self._section(proc, child)

    def _section(self, proc: ProcedureState, sec: Section) -> None:
        heading = clean_title(sec.title)
        proc.target = "steps"
        proc.warnings, proc.not_steps = [], None  # prose of one section never reaches into the next
        if not cl.has_steps(sec, deep=True):
            proc.description.append(self.ctx.source.raw(sec.line, sec.end_line))
            self.ctx.note(sec.line, f"kept as text in '{proc.draft.title}': {heading}")
            return
        shell = [b for b in sec.blocks if isinstance(b, Fence) and cl.is_runnable_shell(b)]
        if len(shell) == 1 and not any(isinstance(b, ListBlock) for b in sec.blocks):
            # "### Step 2: Promote" over one code block: the heading names the step.
            self._blocks(proc, [b for b in sec.blocks if b is not shell[0]], heading=heading)
            steps_from_shell(proc, self.ctx, shell[0], heading, item_title=step_title(heading))
        else:
            self._blocks(proc, sec.blocks, heading=heading)
        self._children(proc, sec.children)

    # --- blocks --------------------------------------------------------------

    def _blocks(self, proc: ProcedureState, blocks: list[Block], *, heading: str) -> None:
        for index, block in enumerate(blocks):
            if isinstance(block, Paragraph):
                self._paragraph(proc, block)
            elif isinstance(block, Fence):
                if not any(isinstance(b, Fence) for b in blocks[index + 1 :]):
                    # A warning written after the last block of a section is about that block.
                    proc.warnings.extend(_warnings(blocks[index + 1 :]))
                self._fence(proc, block, heading)
            elif isinstance(block, ListBlock):
                self._list(proc, block, heading)
            else:
                if isinstance(block, Quote) and safety.warning_text(block.text):
                    proc.warnings.append(safety.warning_text(block.text) or "")
                proc.description.append(raw_block(block))

    def _paragraph(self, proc: ProcedureState, para: Paragraph) -> None:
        labelled = any(cl.label(line)[0] in cl.KNOWN_LABELS for line in para.text.splitlines())
        if not labelled and self._prose_marks(proc, para.text, para.line):
            proc.description.append(para.text)
            return
        for offset, line in enumerate(para.text.splitlines()):
            self._labelled_line(proc, line, para.line + offset)

    def _labelled_line(self, proc: ProcedureState, line: str, where: int) -> None:
        name, value = cl.label(line)
        fields = proc.draft.fields
        sentence = cl.WINDOW_SENTENCE.match(line)
        if name in cl.WHEN and value:
            fields["when"] = join(fields.get("when"), value)
        elif name in cl.WINDOW and value:
            self._window(proc, value, where)
        elif sentence and "recovery_window" not in fields:
            self._window(proc, "< " + sentence.group(1), where)
            proc.description.append(line)
        elif name in cl.SCOPE and value:
            fields["scope"] = value
        elif name in cl.SYMPTOMS | cl.STEPS | cl.VERIFY | cl.PRECHECK and not value:
            proc.target = cl.target_for(name)
        elif name and not value:
            proc.target = "steps" if name.startswith("command") else "text"
            proc.description.append(line)
        else:
            proc.description.append(line)

    def _prose_marks(self, proc: ProcedureState, text: str, line: int) -> bool:
        """Prose that changes what the next block is: a warning, an alternative, an example.

        True when the paragraph was one of those (it is kept as description text).
        """
        plain = strip_md(text).strip()
        proc.prose = plain
        warning = safety.warning_text(text)
        if warning:
            proc.warnings.append(warning)
            return True
        if cl.EXPECTED.match(plain) or cl.ANTI.match(plain):
            proc.not_steps = plain.rstrip(":")
            return True
        if cl.OPTION.match(plain):
            if proc.alt is None or proc.alt_once:
                proc.alt_groups += 1
            proc.alt, proc.alt_once = (proc.alt_groups, plain.rstrip(":")), False
            return True
        alternative = cl.OR.match(plain)
        if alternative and proc.last_steps and len(plain) < 120:
            self._or_option(proc, alternative.group("rest") or plain)
            self.ctx.note(line, f"alternative: {plain!r} starts another option")
            return True
        return False

    def _or_option(self, proc: ProcedureState, name: str) -> None:
        """An "Or ..." line: the steps just made become the first option, the next block another."""
        if not any(s.alt is not None for s in proc.last_steps):
            proc.alt_groups += 1
            first = (proc.alt_groups, proc.last_steps[0].title)
            for step in proc.last_steps:
                step.alt = first
        group = proc.last_steps[0].alt[0]  # type: ignore[index]
        proc.alt, proc.alt_once = (group, name), True

    def _window(self, proc: ProcedureState, value: str, line: int) -> None:
        try:
            parse_window(strip_md(value))
            proc.draft.fields["recovery_window"] = strip_md(value)
            self.ctx.note(line, f"recovery window {strip_md(value)!r}")
        except DurationError:
            proc.description.append(f"Time: {value}")

    def _fence(self, proc: ProcedureState, fence: Fence, heading: str) -> None:
        if proc.not_steps:
            name, proc.not_steps = proc.not_steps, None
            proc.description.append(self.ctx.source.raw_fence(fence, with_mark=True))
            self.ctx.note(fence.line, f"kept as text, not run: {name!r} example")
        elif cl.is_runnable_shell(fence):
            steps_from_shell(proc, self.ctx, fence, heading, item_title=None)
        elif cl.is_cargo_toml(fence):
            steps_from_toml(proc, self.ctx, fence, heading)
        else:
            proc.description.append(self.ctx.source.raw_fence(fence))
            self.ctx.note(fence.line, f"kept as text ({fence.lang or 'code'})")

    def _list(self, proc: ProcedureState, block: ListBlock, heading: str) -> None:
        target = proc.target
        options = [i for i in block.items if cl.OPTION.match(strip_md(i.text))]
        if len(options) >= 2:
            proc.alt_groups += 1
        for item in block.items:
            title = strip_md(item.text).rstrip(":")
            if len(options) >= 2:
                # "1. Option A: ..." items are alternatives too; items that are not options are shared.
                proc.alt = (proc.alt_groups, title) if item in options else None
            fences = [b for b in item.blocks if isinstance(b, Fence)]
            if fences:
                for fence in fences:
                    self._item_fence(proc, fence, heading, title, item.line, target)
                continue
            self._item(proc, item, title, heading, target, ordered=block.ordered)
            for nested in item.blocks:
                if not isinstance(nested, Fence):
                    proc.description.append(raw_block(nested))
        if len(options) >= 2:
            proc.alt = None

    def _item_fence(
        self, proc: ProcedureState, fence: Fence, heading: str, title: str, line: int, target: str
    ) -> None:
        if cl.is_runnable_shell(fence):
            steps_from_shell(proc, self.ctx, fence, heading, item_title=title, target=target)
        elif cl.is_cargo_toml(fence):
            steps_from_toml(proc, self.ctx, fence, heading)
        else:
            manual_step(proc, self.ctx, title, line, target, code=fence)

    def _item(
        self, proc: ProcedureState, item: ListItem, title: str, heading: str, target: str, *, ordered: bool
    ) -> None:
        """A list item without fences: inline commands, a symptom, text, or a manual step."""
        inline = cl.inline_commands(item.text) if ordered else []
        if inline and target != "text":
            steps_from_inline(proc, self.ctx, item, inline, heading, target)
        elif target == "symptoms":
            proc.draft.fields.setdefault("symptoms", []).append(title)
            self.ctx.note(item.line, "symptom")
        elif target == "text":
            proc.description.append(f"- {item.text}")
        else:
            manual_step(proc, self.ctx, title, item.line, target)

    # --- the end of a procedure -----------------------------------------------

    def _finish(self, proc: ProcedureState) -> None:
        fields = proc.draft.fields
        description = "\n".join(d for d in proc.description if d.strip()).strip()
        if description:
            fields["description"] = description
        for key in ("prechecks", "verification"):
            if not fields[key]:
                del fields[key]
        if not fields["steps"]:
            if not fields.get("verification"):
                self._keep_as_text(proc.draft, description)
                return
            # Only checks: they are the steps.
            fields["steps"], fields["verification"] = fields.pop("verification"), []
            del fields["verification"]
        for variant in self._alternatives(proc.draft):
            variant.fields["id"] = unique(variant.id, {p.id for p in self.procedures})
            self.procedures.append(variant)

    def _keep_as_text(self, draft: ProcedureDraft, description: str) -> None:
        self.reference.append(Entry(draft.line, {"id": draft.id, "title": draft.title, "body": description}))
        self.ctx.note(draft.line, f"no steps: kept as text: {draft.title}")

    def _alternatives(self, draft: ProcedureDraft) -> list[ProcedureDraft]:
        """One procedure per option: the shared steps plus that option's, never two options in a row."""
        options = list(
            dict.fromkeys(s.alt for steps in draft.step_lists() for s in steps if s.alt is not None)
        )
        if len(options) < 2:
            return [draft]
        variants = []
        for option in options:
            variant = copy.deepcopy(draft)
            for key in _STEP_KEYS:
                if key in variant.fields:
                    variant.fields[key] = [s for s in variant.fields[key] if s.alt in (None, option)]
            variant.fields["title"] = f"{draft.title}: {option[1]}"
            variant.fields["id"] = slug(variant.title)
            variants.append(variant)
            self.ctx.note(
                draft.line,
                f"alternative: procedure '{variant.title}' holds option {option[1]!r} only "
                f"({len(options)} options, never run one after another)",
            )
        return variants


def _warnings(blocks: list[Block]) -> list[str]:
    """The warnings of the paragraphs and quotes among ``blocks``."""
    return [
        safety.warning_text(b.text) or ""
        for b in blocks
        if isinstance(b, Paragraph | Quote) and safety.warning_text(b.text)
    ]
