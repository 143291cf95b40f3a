"""The Markdown importer: seeds and other styles import, validate, and lose nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.cli import run_cli
from helpers.paths import DATA_DIR, REPO_ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runbook_tui.core.errors import RunbookLoadError
from runbook_tui.core.importer.coverage import unplaced_lines
from runbook_tui.core.importer.markdown import ImportResult, import_markdown, import_markdown_file
from runbook_tui.core.loader import load_text
from runbook_tui.core.model import Runbook, StepKind

SEEDS = DATA_DIR / "seeds"  # copies of ../shared/seeds
FIXTURES = DATA_DIR / "markdown"
SEED_FILES = sorted(SEEDS.glob("*.txt"))
STYLE_FILES = sorted(FIXTURES.glob("*.md"))


def _load(result: ImportResult) -> Runbook:
    return load_text(result.yaml_text, result.source, line_map=result.line_map)


def _steps(runbook: Runbook, proc_id: str) -> list[Any]:
    proc = runbook.procedure(proc_id)
    assert proc is not None, [p.id for p in runbook.procedures]
    return list(proc.all_steps())


@pytest.mark.parametrize("path", SEED_FILES + STYLE_FILES, ids=lambda p: p.name)
def test_imports_validate_and_lose_nothing(path: Path) -> None:
    result = import_markdown_file(path)
    runbook = _load(result)
    assert runbook.procedures
    assert unplaced_lines(path.read_text(), result.data) == []


def test_seed_locations_point_back_at_the_markdown() -> None:
    path = next(p for p in SEED_FILES if "ConnectIn" in p.read_text())
    runbook = _load(import_markdown_file(path))
    lines = path.read_text().splitlines()
    for step in runbook.procedures[0].steps:
        assert step.location.file == str(path)
        # The step's line is the comment or command line it came from.
        assert step.title.split()[0].lower() in lines[step.location.line - 1].lower(), step


def test_connectin_kinds_parameters_and_gates() -> None:
    path = next(p for p in SEED_FILES if "ConnectIn" in p.read_text())
    runbook = _load(import_markdown_file(path))
    kinds = [s.kind for s in _steps(runbook, "application-rollback")]
    assert kinds == [StepKind.SHELL, StepKind.COMPOSE_IMAGE, StepKind.SHELL, StepKind.HTTP, StepKind.WATCH]
    prisma = _steps(runbook, "database-rollback")
    resolve = next(s for s in prisma if "resolve" in getattr(s.spec, "command", ""))
    assert resolve.destructive and resolve.confirm and "data loss" in resolve.confirm
    assert "{{migration_name}}" in resolve.spec.command
    assert all(s.spec.cwd == "apps/api" for s in prisma if s.kind is StepKind.SHELL)
    assert {p.name for p in runbook.parameters} >= {"previous_tag", "migration_name", "previous_release_tag"}
    health_row = next(r for r in runbook.decision_matrix.rows if "503" in r.threshold)
    assert health_row.signal is not None and health_row.signal.url == "http://localhost:5007/health"
    error_row = next(r for r in runbook.decision_matrix.rows if r.issue == "Error rate")
    assert error_row.deadline is not None and error_row.deadline.target_seconds == 600


def test_connectias_edit_and_variable_become_step_and_parameter() -> None:
    path = next(p for p in SEED_FILES if "Connectias" in p.read_text())
    runbook = _load(import_markdown_file(path))
    scenario = _steps(runbook, "scenario-1-advanced-fuel-metering-issues")
    edit = scenario[0]
    assert edit.kind is StepKind.CARGO_FEATURES
    assert edit.spec.remove == ("advanced_fuel_metering",)
    assert "perl -pi" in edit.description  # the raw command is kept
    target = runbook.parameter("target_version")
    assert target is not None and target.default == "v1.0.0"
    verify = _steps(runbook, "pre-rollback-checks")[0]
    assert verify.spec.command == "git tag --verify {{target_version}}"
    windows = {p.id: p.window.text if p.window else None for p in runbook.procedures}
    assert windows["feature-flag-rollback"] == "<1 minute"
    assert windows["git-tag-rollback"] == "<5 minutes"


def test_placeholder_assignments_are_blanks_not_defaults() -> None:
    markdown = """# Rollback

## Procedure 1: Roll back

```bash
export PREVIOUS_TAG=<previous-tag>
MESSAGE="rolled back; see ticket"
REGION=[REGION]
TARGET=v2.3.1
./deploy.sh "$PREVIOUS_TAG" "$TARGET" "$REGION" "$MESSAGE"
```
"""
    runbook = _load(import_markdown(markdown, "placeholders.md"))
    blanks = {name: runbook.parameter(name) for name in ("previous_tag", "message", "region")}
    for name, param in blanks.items():
        assert param is not None and param.default is None, name
    target = runbook.parameter("target")
    assert target is not None and target.default == "v2.3.1"


def test_strict_flow_reference_material() -> None:
    path = next(p for p in SEED_FILES if "Strict Compile-Time" in p.read_text())
    runbook = _load(import_markdown_file(path))
    assert [p.window.text for p in runbook.procedures if p.window] == [
        "< 5 minutes",
        "10-30 minutes",
        "30-60 minutes",
    ]
    links = {r.issue: r.procedure for r in runbook.decision_matrix.rows}
    assert links["Runtime Validation Error"] == "feature-flag-toggle"
    assert links["Critical Functionality Broken"] == "code-rollback"
    assert links["Type Error in Code"] is None  # "fix forward" is not a rollback procedure
    assert len(runbook.roles) == 6 and len(runbook.contacts) == 4
    assert [e.level for e in runbook.escalation] == [1, 2, 3, 4]
    assert len(runbook.alert_thresholds) == 4
    assert [t.audience for t in runbook.templates] == ["internal", "external"]
    assert runbook.templates[0].body.startswith("ROLLBACK ALERT: Strict Connection Flow")


def test_runme_attributes_prompts_and_deadlines() -> None:
    runbook = _load(import_markdown_file(FIXTURES / "k8s-rollback.md"))
    steps = _steps(runbook, "rollout-undo")
    assert [s.id for s in steps[:2]] == ["history", "undo"]
    assert "--to-revision={{revision}}" in steps[1].spec.command
    revision = runbook.parameter("revision")
    assert revision is not None and revision.description == "Which revision?"
    assert steps[-1].kind is StepKind.HTTP and steps[-1].spec.url == "https://checkout.internal/healthz"
    assert runbook.procedures[0].window is not None
    assert runbook.decision_matrix.rows[0].procedure == "rollout-undo"
    assert runbook.decision_matrix.rows[0].deadline is not None


def test_front_matter_warning_gate_and_step_headings() -> None:
    runbook = _load(import_markdown_file(FIXTURES / "db-failover.md"))
    assert (runbook.title, runbook.owner) == ("Database Failover", "data-platform")
    assert runbook.severity == "critical"
    assert runbook.tags == ("postgres", "failover")
    steps = _steps(runbook, "failover-to-the-replica")
    assert [s.title for s in steps] == ["Verify (30 seconds)", "Promote", "Repoint"]
    assert steps[1].destructive and "promoting is destructive" in (steps[1].confirm or "")
    assert "{{replica_host}}" in steps[1].spec.command
    assert runbook.parameter("replica_host").default == "replica-1.db.internal"  # type: ignore[union-attr]
    assert runbook.checklists[0].items[0].text == "Page the database on-call"


def test_plain_numbered_list_and_untyped_fences() -> None:
    runbook = _load(import_markdown_file(FIXTURES / "plain-list.md"))
    steps = _steps(runbook, "restart-the-api")
    assert [s.kind for s in steps] == [StepKind.SHELL, StepKind.SHELL, StepKind.HTTP, StepKind.MANUAL]
    assert steps[0].spec.command == "./drain.sh api-1"


def test_tilde_fences_and_setext_headings() -> None:
    runbook = _load(import_markdown_file(FIXTURES / "tildes-setext.md"))
    assert [p.title for p in runbook.procedures] == ["Flush the cache", "Roll back the config"]
    assert runbook.procedures[0].window is not None and runbook.procedures[0].window.high == 120
    assert runbook.procedures[1].steps[0].spec.command.splitlines() == [
        "cp /etc/cache/config.bak /etc/cache/config",
        "systemctl reload cache",
    ]
    assert any("maxmemory" in s.body for s in runbook.reference)


def test_losing_a_line_is_detected() -> None:
    """The nothing-lost check fails when a command is dropped."""
    path = FIXTURES / "plain-list.md"
    result = import_markdown_file(path)
    result.data["procedures"][0]["steps"][1]["command"] = "true"
    assert unplaced_lines(path.read_text(), result.data) == [(12, "systemctl restart api")]


def test_markdown_without_procedures_is_a_located_error() -> None:
    with pytest.raises(RunbookLoadError) as info:
        import_markdown("# Notes\n\nJust prose.\n", "notes.md")
    assert "notes.md:1:1" in str(info.value) and "no procedure" in str(info.value)


def test_bad_front_matter_is_located() -> None:
    with pytest.raises(RunbookLoadError) as info:
        import_markdown("---\ntitle: [unclosed\n---\n# X\n", "fm.md")
    assert str(info.value).startswith("fm.md:")


_MD_LINES = st.sampled_from(
    [
        "# Title",
        "## Procedure 1: Undo",
        "### Step 1: Check (30 seconds)",
        "**Recovery Time:** < 5 minutes",
        "**Time**: 10-30 minutes",
        "```bash",
        "```",
        "~~~",
        "# comment",
        "docker compose down api",
        "curl -f http://localhost:1/health || echo down",
        'TARGET="v1"',
        "git tag --verify $TARGET",
        "npx prisma migrate resolve --rolled-back <migration-name>",
        "1. Do the thing",
        "- [ ] tick me",
        "| Issue | Action |",
        "|---|---|",
        "| Broken | Full rollback |",
        "",
        "   indented",
        "---",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_MD_LINES | st.text(max_size=40), max_size=40))
def test_arbitrary_markdown_never_crashes(lines: list[str]) -> None:
    text = "\n".join(lines)
    try:
        result = import_markdown(text, "fuzz.md")
    except RunbookLoadError as exc:
        assert exc.problems
        return
    assert yaml.safe_load(result.yaml_text)["procedures"]


def test_cli_import_writes_a_runbook_that_validates(tmp_path: Path) -> None:
    out = tmp_path / "connectin.yaml"
    seed = next(p for p in SEED_FILES if "ConnectIn" in p.read_text())
    done = run_cli("import", str(seed), "-o", str(out), "--report")
    assert done.returncode == 0, done.stderr
    assert "procedure 'Application Rollback (Docker)'" in done.stdout
    assert run_cli("validate", str(out)).returncode == 0


def test_cli_import_errors(tmp_path: Path) -> None:
    binary = tmp_path / "x.md"
    binary.write_bytes(b"\x00\x01\x02")
    done = run_cli("import", str(binary))
    assert done.returncode == 2 and "binary" in done.stderr and "Traceback" not in done.stderr
    missing = run_cli("import", str(tmp_path / "nope.md"))
    assert missing.returncode == 2 and "nope.md" in missing.stderr
    prose = tmp_path / "prose.md"
    prose.write_text("# Notes\n\nnothing to run\n")
    empty = run_cli("import", str(prose), "-o", str(tmp_path / "out.yaml"))
    assert empty.returncode == 1 and not (tmp_path / "out.yaml").exists()


# Where the hand-written runbooks deliberately say more than the Markdown does. Anything
# else that differs between the import and the hand-written YAML fails the test below.
HAND_WRITTEN_ADDITIONS = {
    # The seed's "Pre-Rollback Checks" section, run as pre-checks of the git tag rollback.
    ("connectias", "git-tag-rollback"): "prechecks",
    # The CI/CD strategy's workflow YAML, made runnable by hand: its `gh workflow run` line.
    ("connectias", "automated-rollback"): "procedure",
}
SEED_TO_BUNDLED = {
    "000_b08aebbf23993a48.txt": "strict-connection-flow",
    "001_f5ab695ec2bba413.txt": "connectin",
    "004_ae2fb1aeb772ae1a.txt": "connectias",
}


def _commands(steps: tuple[Any, ...]) -> list[str]:
    """What a procedure runs, in order: shell lines, http URLs, edits."""
    out: list[str] = []
    for step in steps:
        if step.kind in (StepKind.SHELL, StepKind.WATCH):
            out += [line.strip() for line in step.spec.command.splitlines() if line.strip()]
        elif step.kind is StepKind.HTTP:
            out.append(f"http {step.spec.url}")
        elif step.kind is StepKind.CARGO_FEATURES:
            out.append(f"cargo_features -{','.join(step.spec.remove)}")
        elif step.kind is StepKind.COMPOSE_IMAGE:
            out.append(f"compose_image {step.spec.service}")
    return out


@pytest.mark.parametrize("seed", sorted(SEED_TO_BUNDLED), ids=lambda s: SEED_TO_BUNDLED[s])
def test_imported_seed_matches_hand_written_runbook(seed: str) -> None:
    from runbook_tui.core.loader import load_runbook

    rid = SEED_TO_BUNDLED[seed]
    imported = _load(import_markdown_file(SEEDS / seed))
    bundled = load_runbook(REPO_ROOT / "runbooks" / f"{rid}.yaml")
    hand = [p for p in bundled.procedures if HAND_WRITTEN_ADDITIONS.get((rid, p.id)) != "procedure"]
    assert len(imported.procedures) == len(hand)
    for got, want in zip(imported.procedures, hand, strict=True):
        short, full = sorted((want.title.lower().split("(")[0].strip(), got.title.lower()), key=len)
        assert short.split(": ")[-1] in full
        want_steps = want.steps + want.verification
        if HAND_WRITTEN_ADDITIONS.get((rid, want.id)) != "prechecks":
            want_steps = want.prechecks + want_steps
        assert _commands(got.all_steps()) == _commands(want_steps), want.id
