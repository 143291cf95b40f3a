"""The walk over the document's headings: containers, procedures, and the sections that are
not procedures (tables, escalation paths, communication templates, checklists, reference)."""

from __future__ import annotations

from typing import Any

from . import classify as cl
from .blocks import Fence, ListBlock, Paragraph, Quote, Section, Table
from .drafts import Context, Entry, RunbookDraft
from .procedures import ProcedureReader
from .tables import read_table
from .text import clean_title, looks_like, raw_block, slug, strip_md


class RunbookDraftBuilder:
    """Builds a ``RunbookDraft`` from the sections of one Markdown document."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.draft = RunbookDraft()
        self.procedures = ProcedureReader(ctx, self.draft.procedures, self.draft.reference)

    def section(self, sec: Section) -> None:
        """Read ``sec`` and everything under it into the draft."""
        if cl.is_container(sec):
            self._keep_own_blocks(sec)
            for child in sec.children:
                self.section(child)
        elif cl.is_procedure(sec):
            self.procedures.read(sec)
        else:
            self._non_procedure(sec)

    def _keep_own_blocks(self, sec: Section) -> None:
        title = clean_title(sec.title)
        for block in sec.blocks:
            if isinstance(block, Table) and read_table(block, self.draft, self.ctx):
                continue
            self._reference(block.line, title, raw_block(block))

    def _reference(self, line: int, title: str, body: str) -> None:
        self.draft.reference.append(Entry(line, {"id": slug(title), "title": title, "body": body}))

    def _non_procedure(self, sec: Section) -> None:
        title = clean_title(sec.title)
        if not sec.blocks and sec.children:
            for child in sec.children:
                self.section(child)
            return
        if not self._known_section(sec, title):
            self._reference(sec.line, title, self.ctx.source.raw(sec.line, sec.end_line))
            self.ctx.note(sec.line, f"kept as text: {title}")
            return
        leftovers = [b for b in sec.blocks if isinstance(b, Paragraph | Quote)]
        if leftovers:
            self._reference(sec.line, title, "\n\n".join(raw_block(b) for b in leftovers))
        for child in sec.children:
            if cl.is_procedure(child) or cl.is_container(child):
                self.section(child)
            else:
                self._non_procedure(child)

    def _known_section(self, sec: Section, title: str) -> bool:
        """Tables, an escalation path, templates or a checklist: taken into the draft."""
        handled = False
        for block in sec.blocks:
            if isinstance(block, Table):
                handled |= read_table(block, self.draft, self.ctx)
        if looks_like(title, "escalation"):
            handled |= self._escalation(sec)
        if looks_like(title, "template", "communication", "notification", "message"):
            handled |= self._templates(sec)
        return handled or self._checklist(sec, title)

    def _escalation(self, sec: Section) -> bool:
        lists = [b for b in sec.blocks if isinstance(b, ListBlock)]
        if not lists:
            return False
        for number, item in enumerate(lists[0].items, start=1):
            self.draft.out["escalation"].append(
                Entry(item.line, {"level": number, "who": strip_md(item.text)})
            )
        self.ctx.note(sec.line, "escalation path")
        return True

    def _templates(self, sec: Section) -> bool:
        found = False
        for child in [sec, *sec.children]:
            for block in child.blocks:
                if (
                    isinstance(block, Fence)
                    and block.lang in cl.TEMPLATE_LANGS
                    and not cl.is_shell_content(block)
                ):
                    self._template(clean_title(child.title), block)
                    found = True
        if found:
            # The prose under template headings stays with the section, as reference.
            for child in sec.children:
                sec.blocks.extend(b for b in child.blocks if not isinstance(b, Fence))
            sec.children = []
        return found

    def _template(self, title: str, block: Fence) -> None:
        external = looks_like(title, "external", "user", "customer", "public")
        fields = {
            "id": slug(title),
            "title": title,
            "audience": "external" if external else "internal",
            "body": block.code,
        }
        self.draft.out["templates"].append(Entry(block.line, fields))
        self.ctx.note(block.line, f"template: {title}")

    def _checklist(self, sec: Section, title: str) -> bool:
        sections = [sec, *_descendants(sec)]
        items: list[Entry] = []
        for section in sections:
            group = clean_title(section.title) if section is not sec else ""
            for block in section.blocks:
                if isinstance(block, ListBlock):
                    items.extend(_checklist_items(block, group))
        lists = [b for s in sections for b in s.blocks if isinstance(b, ListBlock)]
        has_boxes = any(item.checked is not None for lst in lists for item in lst.items)
        if not items or not (has_boxes or looks_like(title, *cl.CHECKLIST_WORDS)):
            return False
        self.draft.out["checklists"].append(
            Entry(sec.line, {"id": slug(title), "title": title, "items": items})
        )
        self.ctx.note(sec.line, f"checklist: {title} ({len(items)} items)")
        for section in sections:
            for block in section.blocks:
                if not isinstance(block, ListBlock | Paragraph):
                    self._reference(block.line, title, raw_block(block))
        sec.children = []
        return True


def _descendants(sec: Section) -> list[Section]:
    out: list[Section] = []
    for child in sec.children:
        out.append(child)
        out.extend(_descendants(child))
    return out


def _checklist_items(block: ListBlock, group: str) -> list[Entry]:
    items: list[Entry] = []
    for item in block.items:
        nested = [b for b in item.blocks if isinstance(b, ListBlock)]
        label = strip_md(item.text).rstrip(":")
        if nested:
            for inner in nested:
                items.extend(_checklist_items(inner, label))
        else:
            fields: dict[str, Any] = {"text": label}
            if group:
                fields["group"] = group
            items.append(Entry(item.line, fields))
    return items
