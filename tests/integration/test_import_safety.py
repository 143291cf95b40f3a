"""Issue 18: an imported runbook is as safe to run as a hand-written one.

Each fixture under tests/data/import/ is a Markdown runbook in a style the importer
once got wrong (step headings, alternatives, placeholders, destructive commands,
never-ending commands, shell bodies with comments, decision tables, inline code,
Runme attributes, stated times).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from helpers.cli import run_cli
from helpers.paths import DATA_DIR

from runbook_tui.core.errors import ParameterError
from runbook_tui.core.importer.coverage import unplaced_lines
from runbook_tui.core.importer.markdown import ImportResult, import_markdown, import_markdown_file
from runbook_tui.core.importer.safety import destructive_reasons, is_watch
from runbook_tui.core.loader import load_text
from runbook_tui.core.model import Procedure, Runbook, Step, StepKind
from runbook_tui.core.params import validate

DATA = DATA_DIR / "import"
FILES = sorted(DATA.glob("*.md"))


def _load(result: ImportResult) -> Runbook:
    return load_text(result.yaml_text, result.source, line_map=result.line_map)


def _runbook(name: str) -> Runbook:
    return _load(import_markdown_file(DATA / name))


def _commands(proc: Procedure) -> str:
    return "\n".join(getattr(s.spec, "command", "") for s in proc.all_steps())


def _step(proc: Procedure, needle: str) -> Step:
    found = [s for s in proc.all_steps() if needle in getattr(s.spec, "command", "")]
    assert len(found) == 1, (needle, [s.title for s in proc.all_steps()])
    return found[0]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_fixture_imports_validates_and_keeps_every_command(path: Path) -> None:
    result = import_markdown_file(path)
    assert _load(result).procedures
    assert unplaced_lines(path.read_text(), result.data) == []


def test_step_headings_under_one_section_are_one_procedure() -> None:
    runbook = _runbook("k8s-steps.md")
    for proc in runbook.procedures:
        assert "Roll back a bad checkout release" in proc.title
        assert len(proc.steps) >= 5
        assert proc.window is not None and proc.window.text == "15 minutes"  # not the step's (2 min)
    assert runbook.procedures[0].steps[0].title.startswith("Look at the pods")


def test_or_alternative_becomes_its_own_procedure() -> None:
    runbook = _runbook("k8s-steps.md")
    assert len(runbook.procedures) == 2
    plain, revision = runbook.procedures
    assert "specific revision" in revision.title
    assert "--to-revision" not in _commands(plain)
    assert _commands(plain).count("rollout undo") == 1
    assert _commands(revision).count("rollout undo") == 1
    assert "--to-revision={{revision}}" in _commands(revision)


def test_methods_never_run_in_sequence() -> None:
    runbook = _runbook("db-methods.md")
    methods = [p for p in runbook.procedures if p.title.startswith("Database rollback")]
    assert [m.title.split(": ", 1)[1] for m in methods] == [
        "Method 1: Alembic downgrade",
        "Method 2: Restore the dump",
        "Method 3: Flush the cache",
        "Method 4: Fail over the cache",
    ]
    for method in methods:
        assert len(method.steps) == 1
        assert method.steps[0].destructive and method.steps[0].confirm
        assert method.window is not None and method.window.text == "15 min"


def test_options_are_named_after_section_and_option_with_runme_ids() -> None:
    runbook = _runbook("runme.md")
    assert [p.title for p in runbook.procedures] == [
        "Roll back search: Option A: Helm rollback",
        "Roll back search: Option B: Pin the previous tag",
    ]
    assert runbook.procedures[0].steps[0].id == "restart"
    assert runbook.procedures[1].steps[0].id == "pin-tag"  # the JSON form of the attributes
    target = runbook.parameter("target")
    assert target is not None and target.description == "Which tag?" and target.default is None


def test_placeholders_become_parameters() -> None:
    runbook = _runbook("k8s-steps.md")
    namespace = runbook.parameter("NAMESPACE")
    assert namespace is not None and namespace.default is None
    assert namespace.suggestion == "payments"  # "The namespace is `payments`": pre-filled, not a default
    assert "namespace" in namespace.description.lower()
    assert "kubectl -n ${NAMESPACE} get pods" in _commands(runbook.procedures[0])  # kept as written
    assert runbook.parameter("revision") is not None
    db = _runbook("db-methods.md")
    publish = next(p for p in db.procedures if p.title == "Publish the artifacts again")
    text = _commands(publish)
    assert "s3://orders-artifacts/{{release}}/" in text
    assert "origin {{release}}:refs/heads/production" in text
    release = db.parameter("release")
    assert release is not None and release.example == "v2.4.1" and release.default is None
    assert "release being published" in release.description
    node = db.parameter("LATEST_NODE")
    assert node is not None and node.suggestion == "node-7.internal" and node.default is None
    assert db.parameter("health_path") is not None  # {{health_path}} in the source is declared
    for param in (*runbook.parameters, *db.parameters):
        assert param.pattern and param.name.isidentifier()


def test_a_headless_run_does_not_use_a_suggestion() -> None:
    namespace = _runbook("k8s-steps.md").parameter("NAMESPACE")
    assert namespace is not None
    with pytest.raises(ParameterError):
        validate(namespace, None)
    assert validate(namespace, "payments") == "payments"
    with pytest.raises(ParameterError):
        validate(namespace, "--all-namespaces")  # the safe pattern refuses an option


def test_loop_and_environment_variables_are_not_placeholders() -> None:
    runbook = _runbook("shell-heavy.md")
    names = {p.name for p in runbook.parameters}
    assert "ENVIRONMENT" in names
    assert not names & {"pod", "1", "HOME", "PATH"}


DESTRUCTIVE = [
    ("k8s-steps.md", "--replicas=0", "restarts every pod"),
    ("k8s-steps.md", "delete pod", "Clients will see errors"),
    ("db-methods.md", "alembic downgrade", "downgrade"),
    ("db-methods.md", "pg_restore --clean", "--clean"),
    ("db-methods.md", "FLUSHALL", "FLUSHALL"),
    ("db-methods.md", "sentinel failover", "failover"),
    ("db-methods.md", "statefulset/orders-db --replicas=0", "clients will see errors"),
    ("db-methods.md", "delete pvc", "Delete PVC"),
    ("db-methods.md", "sync --delete", "--delete"),
    ("db-methods.md", "push --force", "--force"),
    ("shell-heavy.md", "kubectl delete pod", "delete"),
    ("inline-code.md", "--replicas=0", "--replicas=0"),
]


@pytest.mark.parametrize(("name", "needle", "says"), DESTRUCTIVE)
def test_destructive_commands_are_gated_with_what_will_happen(name: str, needle: str, says: str) -> None:
    runbook = _runbook(name)
    steps = [s for p in runbook.procedures for s in p.all_steps() if needle in getattr(s.spec, "command", "")]
    assert steps
    for step in steps:
        assert step.destructive, step
        assert step.confirm and says.lower() in step.confirm.lower(), step.confirm


def test_warning_comment_gates_its_own_step() -> None:
    restore = next(p for p in _runbook("db-methods.md").procedures if p.title == "Restore from backup")
    pvc = _step(restore, "delete pvc")
    assert pvc.title == "Delete PVC"
    stop = _step(restore, "--replicas=0")
    assert stop.title == "Stop writers" and "Delete PVC" not in (stop.confirm or "")


def test_read_only_commands_are_not_gated() -> None:
    runbook = _runbook("k8s-steps.md")
    look = _step(runbook.procedures[0], "get pods -l app=checkout")
    assert not look.destructive and look.confirm is None


def test_never_ending_commands_become_watches() -> None:
    runbook = _runbook("k8s-steps.md")
    proc = runbook.procedures[0]
    pods = _step(proc, "get pods -w")
    assert pods.kind is StepKind.WATCH and pods.spec.duration == 300  # the documented default
    logs = _step(proc, "logs -f")
    assert logs.kind is StepKind.WATCH and logs.spec.duration == 600  # "for 10 minutes"
    delete = _step(proc, "delete pod")
    assert delete.kind is StepKind.SHELL and "get pods -w" not in delete.spec.command
    publish = next(p for p in _runbook("db-methods.md").procedures if p.title.startswith("Publish"))
    assert _step(publish, "watch -n 5").kind is StepKind.WATCH
    assert _step(publish, "tail -f").kind is StepKind.WATCH


def test_shell_bodies_are_never_split_and_keep_their_bytes() -> None:
    source = (DATA / "shell-heavy.md").read_text()
    proc = _runbook("shell-heavy.md").procedures[0]
    titles = [s.title for s in proc.steps]
    assert titles == [
        "Write the previous config",
        "Restart each worker",
        "Tell the team",
        "Pick by environment",
        "A helper",
    ]
    for step in proc.steps:
        assert step.spec.command in source, step.spec.command  # byte for byte, indentation kept
    assert '  # keep the old limit\n  limit: "50"\nEOF' in proc.steps[0].spec.command
    assert proc.steps[1].spec.command.endswith("done")
    assert proc.steps[4].spec.command.rstrip().endswith("JSON")


def test_heredoc_step_runs_in_real_bash(tmp_path: Path) -> None:
    proc = _runbook("shell-heavy.md").procedures[0]
    command = proc.steps[4].spec.command.replace("/tmp/limits.json", str(tmp_path / "limits.json"))
    done = subprocess.run(["bash", "-e", "-c", command], capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, done.stderr
    assert '    "limit": 50,' in (tmp_path / "limits.json").read_text()


def test_decision_table_with_action_column_keeps_thresholds_and_severity() -> None:
    runbook = _runbook("db-methods.md")
    rows = runbook.decision_matrix.rows
    assert [(r.issue, r.threshold, r.severity) for r in rows] == [
        ("Error rate", "> 5% for 5 min", "SEV2"),
        ("Replication lag", "> 30 s", "SEV3"),
        ("Disk usage", "> 90%", "SEV1"),
    ]
    assert rows[1].procedure == "database-rollback-method-4-fail-over-the-cache"
    assert rows[2].procedure is None
    assert not runbook.alert_thresholds


def test_expected_output_and_anti_examples_are_descriptions() -> None:
    restore = next(p for p in _runbook("db-methods.md").procedures if p.title == "Restore from backup")
    assert "rm -rf" not in _commands(restore)
    assert "orders-db-0          1/1" not in _commands(restore)
    assert "rm -rf /var/lib/postgresql/data" in restore.description
    assert "orders-db-0" in restore.description
    assert restore.window is not None and restore.window.text == "30 minutes"


def test_inline_code_runbook_becomes_steps() -> None:
    runbook = _runbook("inline-code.md")
    proc = runbook.procedures[0]
    assert [s.kind for s in proc.steps] == [
        StepKind.SHELL,
        StepKind.SHELL,
        StepKind.MANUAL,
        StepKind.SHELL,
        StepKind.SHELL,
    ]
    assert proc.steps[3].spec.command == "helm rollback worker {{revision}}"
    assert proc.window is not None and proc.window.text == "20 minutes"  # front matter rto:


def test_time_in_heading_is_the_window() -> None:
    markdown = "# R\n\n## Restart the API (5 min)\n\n```bash\nsystemctl restart api\n```\n"
    runbook = _load(import_markdown(markdown, "t.md"))
    assert runbook.procedures[0].window is not None and runbook.procedures[0].window.target_seconds == 300
    rto = "# R\n\n## Restart the API\n\nRTO < 5 min\n\n```bash\nsystemctl restart api\n```\n"
    assert _load(import_markdown(rto, "t.md")).procedures[0].window is not None


def test_reserved_names_never_become_parameters() -> None:
    markdown = "# R\n\n## Go\n\n```bash\necho $HOME $PATH $LD_PRELOAD {{PATH}} [IFS]\n```\n"
    runbook = _load(import_markdown(markdown, "t.md"))
    names = {p.name for p in runbook.parameters}
    assert not names & {"HOME", "PATH", "LD_PRELOAD", "IFS"}


def test_report_says_what_was_gated_watched_and_parametrised(tmp_path: Path) -> None:
    done = run_cli("import", str(DATA / "db-methods.md"), "--report", "-o", str(tmp_path / "db.yaml"))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "gated" in out and "FLUSHALL" in out
    assert "watch" in out and "tail -f" in out
    assert "parameter LATEST_NODE" in out and "suggested" in out
    assert "alternative" in out
    assert run_cli("validate", str(tmp_path / "db.yaml")).returncode == 0


def _all_steps(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        s for p in data["procedures"] for k in ("prechecks", "steps", "verification") for s in p.get(k, [])
    ]


@pytest.mark.parametrize(
    "command",
    [
        "kubectl delete pod web-0 --force",
        "redis-cli FLUSHALL",
        "kubectl scale deploy/web --replicas=0",
        "aws s3 sync --delete ./dist s3://b/",
        "alembic downgrade -1",
        "pg_restore --clean -d app dump",
        "redis-cli -p 26379 sentinel failover main",
        "git push --force origin main",
        "git reset --hard HEAD~1",
        "rm -rf /var/lib/app",
        'psql -c "DROP TABLE users"',
        "mysql -e 'TRUNCATE sessions'",
        "helm uninstall web",
        "docker compose down -v",
        "terraform destroy",
    ],
)
def test_classifier_gates(command: str) -> None:
    assert destructive_reasons(command), command


@pytest.mark.parametrize(
    "command",
    [
        "kubectl get pods",
        "kubectl apply -f deploy.yaml",
        "kubectl rollout undo deployment/web",
        "helm rollback web 3",
        "docker compose up -d api",
        "git push origin v1.2.3",
        "curl -f http://localhost/health",
        "echo '# delete later'  # not a command: rm -rf",
    ],
)
def test_classifier_lets_read_only_and_ordinary_commands_through(command: str) -> None:
    assert destructive_reasons(command) == [], command


@pytest.mark.parametrize(
    ("command", "endless"),
    [
        ("kubectl get pods -w", True),
        ("kubectl get pods --watch", True),
        ("kubectl logs -f deploy/web", True),
        ("docker compose logs --follow api", True),
        ("tail -f /var/log/app.log", True),
        ("journalctl -fu api", True),
        ("watch -n 5 kubectl get pods", True),
        ("kubectl rollout status deploy/web -w", False),
        ("kubectl apply -f x.yaml", False),
        ("docker compose rm -f api", False),
        ("timeout 60 kubectl logs -f web", False),
    ],
)
def test_watch_detection(command: str, endless: bool) -> None:
    assert is_watch(command) is endless


def test_option_list_items_are_alternatives() -> None:
    markdown = """# R

## Undo the deploy

1. Check the pods:
   ```bash
   kubectl get pods
   ```
2. Option A: roll back with Helm
   ```bash
   helm rollback web 0
   ```
3. Option B: pin the previous image
   ```bash
   kubectl set image deploy/web web=web:[TAG]
   ```
"""
    runbook = _load(import_markdown(markdown, "t.md"))
    assert [p.title for p in runbook.procedures] == [
        "Undo the deploy: Option A: roll back with Helm",
        "Undo the deploy: Option B: pin the previous image",
    ]
    for proc in runbook.procedures:
        assert proc.steps[0].spec.command == "kubectl get pods" and len(proc.steps) == 2


def test_step_headings_without_a_window_are_still_one_procedure() -> None:
    markdown = "# R\n\n## Undo the release\n\n" + "".join(
        f"### Step {n}: Part {n}\n\n```bash\necho part-{n}\n```\n\n" for n in range(1, 5)
    )
    runbook = _load(import_markdown(markdown, "t.md"))
    assert len(runbook.procedures) == 1
    assert [s.spec.command for s in runbook.procedures[0].steps] == [f"echo part-{n}" for n in range(1, 5)]
