"""The bundled YAML runbooks keep everything their Markdown seeds say (issue 2, part 4).

Each seed in ``tests/data/seeds/`` (copies of the project's seed runbooks) is read as
Markdown: its fenced blocks, headings, tables and lists. Every command line of every
shell block must be a command of the matching YAML runbook (with ``$TARGET_VERSION``
and ``<x>`` placeholders in their ``{{x}}`` form) or one of a small, explicit table of
equivalent steps; every procedure, recovery time, decision-matrix row, role, contact,
escalation level, alert threshold, checklist item, template and reference text must be
there too. The runbooks are loaded through the real loader.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import pytest
from helpers.paths import DATA_DIR, REPO_ROOT

from runbook_tui.core.loader import load_runbook
from runbook_tui.core.model import (
    CargoFeaturesSpec,
    ComposeImageSpec,
    HttpSpec,
    ManualSpec,
    Milestone,
    Procedure,
    Runbook,
    ShellSpec,
    Step,
    StepKind,
    WatchSpec,
)
from runbook_tui.core.params import render
from runbook_tui.core.steps.cargo_features import plan_cargo_edit
from runbook_tui.core.steps.compose_image import plan_compose_edit

SEED_DIR = DATA_DIR / "seeds"
RUNBOOK_DIR = REPO_ROOT / "runbooks"
SEEDS: Mapping[str, str] = {
    "strict-connection-flow": "000_b08aebbf23993a48.txt",
    "connectin": "001_f5ab695ec2bba413.txt",
    "connectias": "004_ae2fb1aeb772ae1a.txt",
}
SHELL_LANGS = frozenset({"bash", "sh", "shell", "console", ""})

# --- reading the seed Markdown ---------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A fenced code block, dedented by its fence's indentation."""

    lang: str
    text: str  # the lines between the fences, each ending in "\n"
    line: int  # 1-based line of the opening fence

    @property
    def is_script(self) -> bool:
        return self.text.startswith("#!")


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    line: int  # 0-based index into the seed's lines


_FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*$")


def fenced_blocks(md: str) -> list[Block]:
    """Every fenced block of ``md``, in order."""
    blocks: list[Block] = []
    lines = md.splitlines()
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, lang = opening.group(1), opening.group(2)
        body: list[str] = []
        j = i + 1
        while not re.match(r"^\s*```\s*$", lines[j]):
            line = lines[j]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            j += 1
        blocks.append(Block(lang, "".join(f"{b}\n" for b in body), i + 1))
        i = j + 1
    return blocks


def prose_lines(md: str) -> list[str]:
    """The lines of ``md`` outside fenced blocks (headings included)."""
    out: list[str] = []
    inside = False
    for line in md.splitlines():
        if re.match(r"^\s*```", line):
            inside = not inside
            continue
        if not inside:
            out.append(line)
    return out


def headings(lines: list[str]) -> list[Heading]:
    found = []
    for index, line in enumerate(lines):
        match = _HEADING.match(line)
        if match:
            found.append(Heading(len(match.group(1)), match.group(2), index))
    return found


def section(lines: list[str], title: str) -> list[str]:
    """The prose under the heading ``title``, up to the next heading of its level or above."""
    marks = headings(lines)
    for pos, head in enumerate(marks):
        if head.text == title:
            end = next((h.line for h in marks[pos + 1 :] if h.level <= head.level), len(lines))
            return lines[head.line + 1 : end]
    raise AssertionError(f"the seed has no heading {title!r}")


def subheadings(lines: list[str], title: str) -> list[str]:
    """The headings one level below ``title`` inside its section."""
    head = next(h for h in headings(lines) if h.text == title)
    return [h.text for h in headings(section(lines, title)) if h.level == head.level + 1]


def table(lines: list[str]) -> list[list[str]]:
    """The first Markdown table in ``lines``: header row first, separator dropped."""
    rows = [line.strip() for line in lines if line.strip().startswith("|")]
    cells = [[c.strip() for c in row.strip("|").split("|")] for row in rows]
    return [row for row in cells if not all(re.fullmatch(r":?-+:?", c) for c in row)]


def bold_label(text: str) -> tuple[str, str] | None:
    """``**Label:** rest`` or ``**Label**: rest`` -> (label, rest)."""
    match = re.match(r"^\*\*(.+?)(?::\*\*|\*\*:?)\s*(.*)$", text)
    return (match.group(1), match.group(2)) if match else None


def norm(text: str) -> str:
    """Compare text as a reader would: no Markdown emphasis or code marks, one space, any case."""
    text = text.replace("**", "").replace("`", "")
    return re.sub(r"\s+", " ", text).strip().lower()


def placeholders_to_params(line: str) -> str:
    """``$TARGET_VERSION`` -> ``{{target_version}}``; ``<migration-name>`` -> ``{{migration_name}}``."""
    line = re.sub(r"\$([A-Z][A-Z0-9_]*)", lambda m: "{{" + m.group(1).lower() + "}}", line)
    return re.sub(r"<([a-z][a-z0-9-]*)>", lambda m: "{{" + m.group(1).replace("-", "_") + "}}", line)


# --- reading the runbook ---------------------------------------------------------------


def all_steps(runbook: Runbook) -> Iterator[tuple[Procedure, Step]]:
    for procedure in runbook.procedures:
        for step in procedure.all_steps():
            yield procedure, step


def command_lines(runbook: Runbook) -> set[str]:
    """Every line of every shell or watch command, stripped."""
    lines: set[str] = set()
    for _, step in all_steps(runbook):
        if isinstance(step.spec, ShellSpec | WatchSpec):
            lines.update(line.strip() for line in step.spec.command.splitlines() if line.strip())
    return lines


def texts(value: object) -> Iterator[str]:
    """Every string in a model value, however deep (source locations left out)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Enum | int | float | bool) or value is None:
        return
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            if f.name not in ("location", "path"):
                yield from texts(getattr(value, f.name))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from texts(key)
            yield from texts(item)
    elif isinstance(value, tuple | list):
        for item in value:
            yield from texts(item)


def corpus(runbook: Runbook) -> str:
    """All the runbook's text, normalised, one element per line."""
    return "\n".join(norm(t) for t in texts(runbook))


def written_text(runbook: Runbook) -> str:
    """Descriptions, instructions and reference bodies exactly as written (for code kept verbatim)."""
    parts = [s.body for s in runbook.reference] + [t.body for t in runbook.templates]
    for procedure, step in all_steps(runbook):
        parts += [procedure.description, step.description]
        if isinstance(step.spec, ManualSpec):
            parts.append(step.spec.instructions)
    return "\n".join(parts)


# --- the equivalence table: a seed command line and the step that does its work ---------

Equivalence = Callable[["re.Match[str]", Runbook], bool]


def _has_cwd(match: re.Match[str], runbook: Runbook) -> bool:
    """``cd DIR`` -> the steps that follow it run with ``cwd: DIR``."""
    return any(getattr(s.spec, "cwd", None) == match.group(1) for _, s in all_steps(runbook))


def _http_check(match: re.Match[str], runbook: Runbook) -> bool:
    """``curl -f URL ...`` -> an http step on URL that keeps the raw command in its description."""
    return any(
        isinstance(s.spec, HttpSpec) and s.spec.url == match.group(1) and match.string in s.description
        for _, s in all_steps(runbook)
    )


def _perl_cargo_edit(match: re.Match[str], runbook: Runbook) -> bool:
    """The ``perl -pi`` default-features edit -> a cargo_features step removing that feature."""
    return any(
        isinstance(s.spec, CargoFeaturesSpec)
        and match.group(1) in s.spec.remove
        and s.spec.file == match.group(2)
        and match.string in s.description
        for _, s in all_steps(runbook)
    )


def _cargo_default_emptied(match: re.Match[str], runbook: Runbook) -> bool:
    """``default = []  # Remove X from default`` -> a cargo_features step removing X."""
    return any(
        isinstance(s.spec, CargoFeaturesSpec) and match.group(1) in s.spec.remove
        for _, s in all_steps(runbook)
    )


def _parameter(match: re.Match[str], runbook: Runbook) -> bool:
    """``NAME="value"`` -> a parameter ``name`` whose default or example is that value."""
    param = runbook.parameter(match.group(1).lower())
    return param is not None and match.group(2) in (param.default, param.example)


EQUIVALENCES: tuple[tuple[re.Pattern[str], Equivalence], ...] = (
    (re.compile(r"^cd (\S+)$"), _has_cwd),
    (re.compile(r"^curl -f (\S+)"), _http_check),
    (
        re.compile(r"^perl -pi -e 's/default = \\\[\"(\w+)\"\\\]/default = \[\]/' (\S+)$"),
        _perl_cargo_edit,
    ),
    (re.compile(r"^default = \[\]\s+# Remove (\w+) from default$"), _cargo_default_emptied),
    (re.compile(r"^([A-Z][A-Z0-9_]*)=\"([^\"]*)\"$"), _parameter),
)

# Numbered comment groups ("# 2. Update docker-compose ...") whose work is a typed step.
GROUP_KINDS: Mapping[str, StepKind] = {
    "Update docker-compose to use previous image tag": StepKind.COMPOSE_IMAGE,
    "Verify health": StepKind.HTTP,
    "Run health checks": StepKind.HTTP,
    "Monitor logs for 5 minutes": StepKind.WATCH,
}

_TOML_SYNTAX = re.compile(r"^(\[.*\]|[\w.-]+\s*=.*)$")


def covered(line: str, runbook: Runbook, commands: set[str]) -> bool:
    if placeholders_to_params(line) in commands:
        return True
    for pattern, equivalent in EQUIVALENCES:
        match = pattern.match(line)
        if match and equivalent(match, runbook):
            return True
    return False


def missing_commands(md: str, runbook: Runbook) -> list[str]:
    """Seed command lines the runbook has neither as a command nor as an equivalent step."""
    commands = command_lines(runbook)
    kept = written_text(runbook)
    templates = {t.body for t in runbook.templates}
    missing: list[str] = []
    for block in fenced_blocks(md):
        where = f"line {block.line}"
        if block.lang == "" and block.text in templates:
            continue  # a communication template, checked with the templates
        # scripts, Cargo.toml, Rust and workflow YAML are kept as written
        if (block.is_script or block.lang not in SHELL_LANGS) and block.text not in kept:
            missing.append(f"{where}: {block.lang or 'untyped'} block not kept verbatim")
        for raw in block.text.splitlines():
            line = raw.strip()
            if not line or line.startswith(("#", "//")) or block.is_script:
                continue
            if block.lang not in SHELL_LANGS and _TOML_SYNTAX.match(line) and not line.startswith("default"):
                continue  # a TOML key or table: part of the verbatim block above
            if block.lang in ("rust", "yaml"):
                continue
            if not covered(line, runbook, commands):
                missing.append(f"{where}: {line}")
    return missing


def missing_groups(md: str, runbook: Runbook) -> list[str]:
    """Numbered comment groups (``# 3. Restart with previous version``) without a step of their own."""
    missing = []
    steps = [s for _, s in all_steps(runbook)]
    for block in fenced_blocks(md):
        for raw in block.text.splitlines():
            match = re.match(r"^#\s*\d+\.\s+(.+)$", raw.strip())
            if not match:
                continue
            title = match.group(1)
            kind = GROUP_KINDS.get(title)
            if not any(norm(title) in norm(s.title) and (kind is None or s.kind is kind) for s in steps):
                missing.append(f"{title} ({kind.value if kind else 'any kind'})")
    return missing


def missing_comments(md: str, runbook: Runbook) -> list[str]:
    """The shell blocks' own comments (``# Disable feature flag globally``), kept as titles or text."""
    text = corpus(runbook)
    missing = []
    for block in fenced_blocks(md):
        if block.lang not in SHELL_LANGS or block.is_script:
            continue
        for raw in block.text.splitlines():
            line = raw.strip()
            if line.startswith("#"):
                comment = re.sub(r"^#\s*(\d+\.\s+)?", "", line)
                if comment and norm(placeholders_to_params(comment)) not in text:
                    missing.append(comment)
            elif "  # " in line and norm(line.split("  # ", 1)[1]) not in text:
                missing.append(line)
    return missing


# Headings and bold labels the format holds as structure (a list of steps, of
# verification checks, of symptoms; the roles, contacts and thresholds tables), not as text.
STRUCTURAL = frozenset(
    norm(s)
    for s in (
        "Alerting Thresholds",
        "Primary Contacts",
        "Escalation Path",
        "Rollback Steps",
        "Verification",
        "Command-line rollback",
        "Symptoms",
    )
)


def missing_prose(md: str, runbook: Runbook) -> list[str]:
    """Every line of prose, table cell and heading below the top level, found in the runbook's text."""
    text = corpus(runbook)
    missing = []
    previous = ""
    for line in prose_lines(md):
        stripped, above = line.strip(), previous
        previous = stripped
        if not stripped or re.fullmatch(r"\|?[\s|:-]+\|?", stripped):
            continue
        heading = _HEADING.match(stripped)
        if heading:
            level, title = len(heading.group(1)), heading.group(2)
            if level == 1:
                wanted = [title]
            elif level == 2 or norm(title) in STRUCTURAL:
                continue  # chapter headings: the format's own sections
            else:
                wanted = [re.sub(r"^(Procedure \d+: |\d+\. )", "", title)]
        elif stripped.startswith("|"):
            if not above.startswith("|"):
                continue  # a header row: the columns are the model's fields
            wanted = [c.strip() for c in stripped.strip("|").split("|")]
        else:
            item = re.sub(r"^(\d+\.|-)\s+(\[ \]\s+)?", "", stripped)
            labelled = bold_label(item)
            if labelled and labelled[1]:
                wanted = [labelled[1]]
            elif labelled:
                wanted = [] if norm(labelled[0]) in STRUCTURAL else [labelled[0]]
            else:
                wanted = [item.rstrip(":")]
        missing += [w for w in wanted if w and norm(w) not in text]
    return missing


# --- per-seed expectations: the few things a reader decides ------------------------------

# Seed procedure headings and the procedure each became.
PROCEDURES: Mapping[str, Mapping[str, str]] = {
    "strict-connection-flow": {
        "Procedure 1: Feature Flag Toggle (Partial Rollback)": "feature-flag-toggle",
        "Procedure 2: Code Rollback (Full Rollback)": "code-rollback",
        "Procedure 3: Database Rollback (Emergency Rollback)": "database-rollback",
    },
    "connectin": {
        "1. Application Rollback (Docker)": "app-rollback",
        "2. Database Rollback (Prisma)": "db-rollback",
        "3. Frontend Rollback (Next.js)": "frontend-rollback",
        "4. Full Stack Rollback": "full-stack-rollback",
    },
    "connectias": {
        "1. Feature Flag Rollback (Immediate)": "feature-flag-rollback",
        "2. Git Tag Rollback (Deployment)": "git-tag-rollback",
        "3. Automated Rollback (CI/CD)": "automated-rollback",
        "Scenario 1: Advanced Fuel Metering Issues": "scenario-advanced-fuel-metering",
        "Scenario 2: Security Vulnerability": "scenario-security-vulnerability",
        "Scenario 3: Performance Regression": "scenario-performance-regression",
        "Pre-Rollback Checks": "pre-rollback-checks",
        "Post-Rollback Validation": "post-rollback-validation",
        "After Successful Rollback": "after-successful-rollback",
    },
}
# The chapters whose sub-headings are procedures (or the checklists listed below).
PROCEDURE_CHAPTERS: Mapping[str, tuple[str, ...]] = {
    "strict-connection-flow": ("Rollback Procedures",),
    "connectin": ("Rollback Procedures",),
    "connectias": ("Rollback Strategies", "Rollback Scenarios", "Rollback Validation", "Rollback Recovery"),
}
# Seed sections that are checklists, and the checklist each became.
CHECKLISTS: Mapping[str, Mapping[str, str]] = {
    "strict-connection-flow": {
        "Post-Rollback Tasks": "post-rollback-tasks",
        "Rollback Testing": "rollback-testing",
        "Key Metrics to Monitor": "key-metrics",
        "Recovery Plan": "recovery-plan",
    },
    "connectin": {"Post-Rollback Checklist": "post-rollback"},
    "connectias": {
        "Internal Communication": "internal-communication",
        "External Communication": "external-communication",
        "Prevention Measures": "prevention-measures",
    },
}
# Seed sections kept as reference text.
REFERENCE: Mapping[str, Mapping[str, str]] = {
    "strict-connection-flow": {"Document History": "document-history"},
    "connectin": {"Prevention": "prevention"},
    "connectias": {"Best Practices": "best-practices", "Next Steps": "next-steps"},
}
# Decision-matrix rows and the procedure each row's action calls for (None: fix forward).
ROW_PROCEDURES: Mapping[str, Mapping[str, str | None]] = {
    "strict-connection-flow": {
        "Type Error in Code": None,
        "Runtime Validation Error": "feature-flag-toggle",
        "Data Migration Issue": "database-rollback",
        "Performance Degradation": "feature-flag-toggle",
        "Critical Functionality Broken": "code-rollback",
    },
    "connectin": {
        "Error rate": "app-rollback",
        "Health check": "app-rollback",
        "Latency p99": "app-rollback",
        "Crash loop": "app-rollback",
    },
    "connectias": {},
}
MATRIX_FIELDS: Mapping[str, str] = {
    "Issue Type": "issue",
    "Signal": "issue",
    "Severity": "severity",
    "User Impact": "impact",
    "Threshold": "threshold",
    "Action": "action",
}
# Commands that change or stop something: each needs a confirmation naming what happens.
DESTRUCTIVE = re.compile(
    r"^(docker compose down\b|git checkout \{\{|npx prisma migrate resolve|\./scripts/app\.sh stop"
    r"|\./scripts/migrations\.sh rollback|\./scripts/deploy\.sh rollback)"
)

# --- fixtures --------------------------------------------------------------------------


def seed_text(runbook_id: str) -> str:
    return (SEED_DIR / SEEDS[runbook_id]).read_text(encoding="utf-8")


_LOADED: dict[str, Runbook] = {}


def runbook_for(runbook_id: str) -> Runbook:
    if runbook_id not in _LOADED:
        _LOADED[runbook_id] = load_runbook(RUNBOOK_DIR / f"{runbook_id}.yaml")
    return _LOADED[runbook_id]


IDS = list(SEEDS)

# --- the completeness tests --------------------------------------------------------------


@pytest.mark.parametrize("runbook_id", IDS)
def test_the_runbook_loads_with_its_id(runbook_id: str) -> None:
    runbook = runbook_for(runbook_id)
    assert runbook.id == runbook_id
    title = next(h.text for h in headings(seed_text(runbook_id).splitlines()) if h.level == 1)
    assert norm(title) in norm(runbook.title)


@pytest.mark.parametrize("runbook_id", IDS)
def test_every_seed_command_line_is_a_command_or_an_equivalent_step(runbook_id: str) -> None:
    assert missing_commands(seed_text(runbook_id), runbook_for(runbook_id)) == []


@pytest.mark.parametrize("runbook_id", IDS)
def test_every_numbered_command_group_is_a_step_of_the_right_kind(runbook_id: str) -> None:
    assert missing_groups(seed_text(runbook_id), runbook_for(runbook_id)) == []


@pytest.mark.parametrize("runbook_id", IDS)
def test_every_comment_of_the_seed_commands_is_kept(runbook_id: str) -> None:
    assert missing_comments(seed_text(runbook_id), runbook_for(runbook_id)) == []


@pytest.mark.parametrize("runbook_id", IDS)
def test_every_line_of_prose_tables_and_headings_is_kept(runbook_id: str) -> None:
    assert missing_prose(seed_text(runbook_id), runbook_for(runbook_id)) == []


@pytest.mark.parametrize("runbook_id", IDS)
def test_every_procedure_heading_is_a_procedure_with_its_window_and_steps(runbook_id: str) -> None:
    lines = prose_lines(seed_text(runbook_id))
    runbook = runbook_for(runbook_id)
    expected = PROCEDURES[runbook_id]
    found = [h for chapter in PROCEDURE_CHAPTERS[runbook_id] for h in subheadings(lines, chapter)]
    assert sorted(set(found) - set(CHECKLISTS[runbook_id])) == sorted(expected)
    for heading, proc_id in expected.items():
        procedure = runbook.procedure(proc_id)
        assert procedure is not None, f"{heading!r} has no procedure {proc_id}"
        assert norm(re.sub(r"^(Procedure \d+: |\d+\. )", "", heading)) in norm(procedure.title)
        _check_procedure_section(section(lines, heading), procedure)


def _check_procedure_section(lines: list[str], procedure: Procedure) -> None:
    steps_text = norm(" | ".join(t for s in procedure.all_steps() for t in texts(s)))
    symptoms: list[str] = []
    collecting = False
    for raw in lines:
        line = raw.strip()
        labelled = bold_label(line)
        if labelled:
            label, rest = labelled
            collecting = label == "Symptoms"
            if label in ("Recovery Time", "Time"):
                assert procedure.window is not None and procedure.window.text == rest, procedure.id
            elif label in ("When to use", "Use Case"):
                assert procedure.when == rest, procedure.id
            elif label == "Scope":
                assert procedure.scope == rest, procedure.id
            continue
        if collecting and line.startswith("- "):
            symptoms.append(line[2:])
        numbered = re.match(r"^\d+\.\s+(.+)$", line)
        if numbered:
            item = numbered.group(1).replace("**", "")
            assert norm(item) in steps_text, f"{procedure.id}: step {item!r} missing"
    assert list(procedure.symptoms) == symptoms


@pytest.mark.parametrize("runbook_id", IDS)
def test_every_decision_matrix_row_is_there_and_points_at_its_procedure(runbook_id: str) -> None:
    lines = prose_lines(seed_text(runbook_id))
    runbook = runbook_for(runbook_id)
    matrix = runbook.decision_matrix
    if "Rollback Decision Matrix" not in [h.text for h in headings(lines)]:
        assert matrix.rows == ()
        return
    header, *rows = table(section(lines, "Rollback Decision Matrix"))
    assert list(matrix.columns) == header
    assert [r.issue for r in matrix.rows] == [row[0] for row in rows]
    for row, cells in zip(matrix.rows, rows, strict=True):
        for column, cell in zip(header, cells, strict=True):
            assert getattr(row, MATRIX_FIELDS[column]) == cell, (row.id, column)
        assert row.procedure == ROW_PROCEDURES[runbook_id][row.issue]
        if row.procedure is not None:
            assert runbook.procedure(row.procedure) is not None
        deadline = re.search(r"rollback if not resolved in (\d+) min", row.action)
        if deadline:
            assert row.deadline is not None and row.deadline.target_seconds == int(deadline.group(1)) * 60
        else:
            assert row.deadline is None


def test_the_health_503_row_has_a_live_signal() -> None:
    row = next(r for r in runbook_for("connectin").decision_matrix.rows if r.issue == "Health check")
    assert row.signal is not None
    assert (row.signal.url, row.signal.expect_status) == ("http://localhost:5007/health", 503)


def test_roles_contacts_escalation_and_alert_thresholds_are_all_there() -> None:
    lines = prose_lines(seed_text("strict-connection-flow"))
    runbook = runbook_for("strict-connection-flow")
    _, *roles = table(section(lines, "Rollback Responsibilities"))
    assert [(r.role, r.responsibilities) for r in runbook.roles] == [tuple(r) for r in roles]
    _, *contacts = table(section(lines, "Primary Contacts"))
    assert [(c.role, c.name, c.contact) for c in runbook.contacts] == [tuple(c) for c in contacts]
    _, *thresholds = table(section(lines, "Alerting Thresholds"))
    assert [(a.metric, a.warning, a.critical, a.action) for a in runbook.alert_thresholds] == [
        tuple(t) for t in thresholds
    ]
    levels = [
        (int(m.group(1)), m.group(2))
        for line in section(lines, "Escalation Path")
        if (m := re.match(r"^(\d+)\.\s+\*\*.+?\*\*:\s*(.+)$", line.strip()))
    ]
    assert [(e.level, e.who) for e in runbook.escalation] == levels
    assert len(levels) == 4


@pytest.mark.parametrize("runbook_id", IDS)
def test_every_checklist_item_is_in_its_checklist_and_group(runbook_id: str) -> None:
    lines = prose_lines(seed_text(runbook_id))
    runbook = runbook_for(runbook_id)
    for heading, checklist_id in CHECKLISTS[runbook_id].items():
        checklist = next(c for c in runbook.checklists if c.id == checklist_id)
        assert norm(heading) in norm(checklist.title)
        group, expected = "", []
        for raw in section(lines, heading):
            line = raw.strip()
            parent = re.match(r"^\d+\.\s+\*\*(.+?)\*\*:?$", line)
            if parent:
                group = parent.group(1).rstrip(":")
            item = re.match(r"^-\s+(?:\[ \]\s+)?(.+)$", line)
            if item:
                expected.append((item.group(1), group))
        assert expected, heading
        assert [(i.text, i.group) for i in checklist.items] == expected


def test_every_communication_template_is_kept_verbatim() -> None:
    md = seed_text("strict-connection-flow")
    lines = prose_lines(md)
    runbook = runbook_for("strict-connection-flow")
    untyped = [b for b in fenced_blocks(md) if b.lang == ""]
    titles = subheadings(lines, "Communication Templates")
    assert len(untyped) == len(titles) == 2
    assert [(t.title, t.body) for t in runbook.templates] == [
        (title, block.text) for title, block in zip(titles, untyped, strict=True)
    ]
    assert [t.audience for t in runbook.templates] == ["internal", "external"]


@pytest.mark.parametrize("runbook_id", IDS)
def test_overview_and_reference_sections_are_kept(runbook_id: str) -> None:
    lines = prose_lines(seed_text(runbook_id))
    runbook = runbook_for(runbook_id)
    overview = " ".join(line.strip() for line in section(lines, "Overview") if line.strip())
    assert runbook.description.strip() == overview
    for heading, section_id in REFERENCE[runbook_id].items():
        body = next(s.body for s in runbook.reference if s.id == section_id)
        for line in section(lines, heading):
            assert line.strip() in body, (section_id, line)


def test_placeholders_are_declared_parameters_with_patterns_that_accept_the_examples() -> None:
    expected = {
        "connectin": {"previous_tag", "previous_web_tag", "migration_name", "previous_release_tag"},
        "connectias": {"target_version"},
        "strict-connection-flow": set(),
    }
    for runbook_id, names in expected.items():
        runbook = runbook_for(runbook_id)
        assert {p.name for p in runbook.parameters} == names
        for param in runbook.parameters:
            assert param.pattern and param.example
            assert re.fullmatch(param.pattern, param.example)
            assert not re.fullmatch(param.pattern, "v1; rm -rf ~"), param.name
    sources = {
        (p.name, p.choices_from.source.value, p.choices_from.value)
        for rid in ("connectin", "connectias")
        for p in runbook_for(rid).parameters
        if p.choices_from
    }
    assert ("previous_tag", "docker_tags", "connectin-api") in sources
    assert ("target_version", "git_tags", ".") in sources
    assert ("previous_release_tag", "git_tags", ".") in sources
    target = runbook_for("connectias").parameter("target_version")
    assert target is not None and target.default == target.example == "v1.0.0"


@pytest.mark.parametrize("runbook_id", IDS)
def test_destructive_commands_ask_first_and_rollbacks_mark_milestones(runbook_id: str) -> None:
    runbook = runbook_for(runbook_id)
    for procedure, step in all_steps(runbook):
        if isinstance(step.spec, ShellSpec) and any(
            DESTRUCTIVE.match(line.strip()) for line in step.spec.command.splitlines()
        ):
            assert step.confirm and step.destructive, f"{procedure.id}/{step.id}"
    for proc_id in PROCEDURES[runbook_id].values():
        proc = runbook.procedure(proc_id)
        assert proc is not None
        if any(s.destructive for s in proc.steps):
            assert any(s.milestone is Milestone.MITIGATED for s in proc.steps), proc_id


def test_connectin_steps_have_the_typed_kinds_the_work_needs() -> None:
    runbook = runbook_for("connectin")
    app = runbook.procedure("app-rollback")
    assert app is not None
    compose = next(s.spec for s in app.steps if isinstance(s.spec, ComposeImageSpec))
    assert isinstance(compose, ComposeImageSpec)
    assert (compose.service, compose.tag, compose.file) == ("api", "{{previous_tag}}", "docker-compose.yml")
    health = next(s for s in app.verification if isinstance(s.spec, HttpSpec))
    assert isinstance(health.spec, HttpSpec)
    assert health.spec.url == "http://localhost:5007/health" and health.spec.expect_status == 200
    assert dict(health.spec.expect_json) == {"database": "connected"}
    assert health.spec.retry_for > 0 and health.milestone is Milestone.RESOLVED
    watch = next(s.spec for s in app.verification if isinstance(s.spec, WatchSpec))
    assert isinstance(watch, WatchSpec)
    assert watch.duration == 300 and watch.command == "docker compose logs -f api --since 5m"
    db = runbook.procedure("db-rollback")
    assert db is not None
    assert all(getattr(s.spec, "cwd", None) == "apps/api" for s in db.all_steps() if s.kind is StepKind.SHELL)


# --- the checker itself can fail ---------------------------------------------------------


def _without_step(runbook: Runbook, proc_id: str, step_id: str) -> Runbook:
    """A copy of ``runbook`` with one step taken out of one procedure."""
    procedures = tuple(
        dataclasses.replace(
            p,
            prechecks=tuple(s for s in p.prechecks if s.id != step_id),
            steps=tuple(s for s in p.steps if s.id != step_id),
            verification=tuple(s for s in p.verification if s.id != step_id),
        )
        if p.id == proc_id
        else p
        for p in runbook.procedures
    )
    return dataclasses.replace(runbook, procedures=procedures)


@pytest.mark.parametrize(
    ("runbook_id", "proc_id", "step_id", "reported"),
    [
        ("connectin", "app-rollback", "restart-api", "docker compose down api"),
        (
            "connectin",
            "frontend-rollback",
            "verify-frontend",
            'curl -f http://localhost:3111 || echo "FRONTEND DOWN"',
        ),
        ("strict-connection-flow", "code-rollback", "verify-deployment", "./scripts/deploy.sh status"),
        ("connectias", "scenario-advanced-fuel-metering", "disable-feature-flag", "perl -pi -e"),
        ("connectias", "git-tag-rollback", "trigger-rollback-deployment", "version_tag=$TARGET_VERSION"),
    ],
)
def test_removing_a_step_is_reported(runbook_id: str, proc_id: str, step_id: str, reported: str) -> None:
    runbook = runbook_for(runbook_id)
    md = seed_text(runbook_id)
    assert missing_commands(md, runbook) == []
    missing = missing_commands(md, _without_step(runbook, proc_id, step_id))
    assert any(reported in m for m in missing), missing


def test_a_changed_command_is_reported() -> None:
    runbook = runbook_for("strict-connection-flow")
    procedure = runbook.procedure("code-rollback")
    assert procedure is not None
    changed = tuple(
        dataclasses.replace(s, spec=ShellSpec(s.spec.command.replace("v2.5.4", "v2.5.3")))
        if isinstance(s.spec, ShellSpec)
        else s
        for s in procedure.steps
    )
    tampered = dataclasses.replace(
        runbook,
        procedures=tuple(
            dataclasses.replace(p, steps=changed) if p.id == procedure.id else p for p in runbook.procedures
        ),
    )
    missing = missing_commands(seed_text("strict-connection-flow"), tampered)
    assert missing == ["line 64: ./scripts/deploy.sh rollback --environment=production --version=v2.5.4"]


def test_a_typed_step_replaced_by_prose_is_reported() -> None:
    runbook = runbook_for("connectin")
    app = runbook.procedure("app-rollback")
    assert app is not None
    compose = next(s for s in app.steps if s.kind is StepKind.COMPOSE_IMAGE)
    prose = dataclasses.replace(compose, kind=StepKind.MANUAL, spec=ManualSpec("edit the tag by hand"))
    swapped = dataclasses.replace(
        runbook,
        procedures=tuple(
            dataclasses.replace(p, steps=tuple(prose if s is compose else s for s in p.steps))
            if p.id == app.id
            else p
            for p in runbook.procedures
        ),
    )
    assert missing_groups(seed_text("connectin"), swapped) == [
        "Update docker-compose to use previous image tag (compose_image)"
    ]


def test_a_dropped_checklist_item_or_matrix_row_is_reported_by_the_prose_check() -> None:
    runbook = runbook_for("strict-connection-flow")
    md = seed_text("strict-connection-flow")
    checklist = runbook.checklists[0]
    fewer = dataclasses.replace(checklist, items=checklist.items[1:])
    without_item = dataclasses.replace(runbook, checklists=(fewer, *runbook.checklists[1:]))
    assert missing_prose(md, without_item) == ["Collect logs and error reports"]
    matrix = dataclasses.replace(runbook.decision_matrix, rows=runbook.decision_matrix.rows[:-1])
    without_row = dataclasses.replace(runbook, decision_matrix=matrix)
    assert "Critical Functionality Broken" in missing_prose(md, without_row)


# --- the equivalences hold on real files and a real git repository ------------------------

CARGO_TOML = """[package]
name = "connectias"  # the plugin host
version = "1.1.0"
edition = "2021"

[features]
default = ["advanced_fuel_metering"]
advanced_fuel_metering = []

[dependencies]
"""


def _step(runbook: Runbook, proc_id: str, step_id: str) -> Step:
    procedure = runbook.procedure(proc_id)
    assert procedure is not None
    return next(s for s in procedure.all_steps() if s.id == step_id)


@pytest.mark.parametrize(
    ("proc_id", "step_id"),
    [
        ("feature-flag-rollback", "disable-advanced-fuel-metering"),
        ("scenario-advanced-fuel-metering", "disable-feature-flag"),
    ],
)
def test_the_cargo_features_step_writes_what_the_seeds_perl_command_writes(
    tmp_path: Path, proc_id: str, step_id: str
) -> None:
    perl_line = next(
        line.strip()
        for block in fenced_blocks(seed_text("connectias"))
        for line in block.text.splitlines()
        if line.strip().startswith("perl -pi")
    )
    (tmp_path / "Cargo.toml").write_text(CARGO_TOML)
    subprocess.run(["sh", "-c", perl_line], cwd=tmp_path, check=True, timeout=30)
    by_perl = (tmp_path / "Cargo.toml").read_bytes()
    assert by_perl != CARGO_TOML.encode()  # the seed's command did change the file

    (tmp_path / "Cargo.toml").write_text(CARGO_TOML)
    spec = _step(runbook_for("connectias"), proc_id, step_id).spec
    assert isinstance(spec, CargoFeaturesSpec)
    edit, _ = plan_cargo_edit(tmp_path / spec.file, spec)
    assert edit is not None and edit.after == by_perl


def test_the_compose_step_changes_only_the_api_image_tag(tmp_path: Path) -> None:
    compose = tmp_path / "docker-compose.yml"
    before = (
        "services:\n"
        "  api:\n"
        "    image: connectin-api:v1.1.0  # current release\n"
        "    network_mode: host\n"
        "  web:\n"
        "    image: connectin-web:v1.1.0\n"
    )
    compose.write_text(before)
    spec = _step(runbook_for("connectin"), "app-rollback", "pin-previous-tag").spec
    assert isinstance(spec, ComposeImageSpec)
    edit = plan_compose_edit(tmp_path / spec.file, spec.service, render(spec.tag, {"previous_tag": "v1.0.0"}))
    assert edit is not None
    assert edit.after.decode() == before.replace("connectin-api:v1.1.0", "connectin-api:v1.0.0")


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "drill", "GIT_AUTHOR_EMAIL": "drill@example.invalid"}
    env |= {"GIT_COMMITTER_NAME": "drill", "GIT_COMMITTER_EMAIL": "drill@example.invalid"}
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_git_tag_rollback_commands_run_in_a_real_repository(tmp_path: Path) -> None:
    """List tags newest first, then create and push the rollback tag, as the runbook's shell steps."""
    origin, repo = tmp_path / "origin.git", tmp_path / "repo"
    _git(tmp_path, "init", "-q", "--bare", str(origin))
    _git(tmp_path, "init", "-q", str(repo))
    _git(repo, "commit", "-q", "--allow-empty", "-m", "release")
    for tag in ("v0.9.0", "v1.0.0", "v1.10.0", "v1.2.0"):
        _git(repo, "tag", "-a", tag, "-m", tag)
    _git(repo, "remote", "add", "origin", str(origin))

    runbook = runbook_for("connectias")
    values = {"target_version": "v1.0.0"}
    env = {**os.environ, "GIT_COMMITTER_NAME": "drill", "GIT_COMMITTER_EMAIL": "drill@example.invalid"}
    env |= values  # a shell step gets its parameters as environment variables

    def run_step(step_id: str) -> str:
        spec = _step(runbook, "git-tag-rollback", step_id).spec
        assert isinstance(spec, ShellSpec)
        command = render(spec.command, values, shell=True)
        done = subprocess.run(
            ["sh", "-c", command], cwd=repo, env=env, capture_output=True, text=True, timeout=30
        )
        assert done.returncode == spec.expect_exit, done.stderr
        return done.stdout

    assert run_step("list-tags").split() == ["v1.10.0", "v1.2.0", "v1.0.0", "v0.9.0"]
    run_step("create-rollback-tag")
    created = [t for t in _git(repo, "tag", "--list", "rollback-*").split()]
    assert len(created) == 1 and re.fullmatch(r"rollback-\d{8}-\d{6}", created[0])
    assert _git(repo, "tag", "-l", "--format=%(contents:subject)", created[0]).strip() == "Rollback to v1.0.0"
    assert created[0] in _git(origin, "tag", "--list")
