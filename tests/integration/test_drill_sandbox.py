"""Drill sandboxes against the real tools: Docker Compose, cargo, git with GPG, sqlite."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import httpx
import pytest

from runbook_tui.core.drills import DrillError, build_sandbox, list_faults, load_drill
from runbook_tui.core.model import Runbook

pytestmark = [pytest.mark.timeout(240), pytest.mark.xdist_group("drill")]


def runbook(rb_id: str, path: str = "") -> Runbook:
    return Runbook(id=rb_id, title=rb_id, procedures=(), path=path)


def sh(sandbox, command: str, cwd: str = ".", ok: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        command, shell=True, cwd=sandbox.workdir / cwd, env=sandbox.env, capture_output=True, text=True
    )
    if ok:
        assert proc.returncode == 0, f"{command}: {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


# --- definitions -------------------------------------------------------------------------


def test_every_bundled_drill_loads_and_names_its_faults() -> None:
    for rb_id in ("connectin", "connectias", "strict-connection-flow"):
        faults = list_faults(runbook(rb_id))
        assert {"health-still-failing", "missing-tag", "hang"} <= set(faults), rb_id
    assert "migration-halfway" in list_faults(runbook("strict-connection-flow"))


def test_unknown_fault_lists_the_known_ones() -> None:
    with pytest.raises(DrillError, match="its faults: health-still-failing, missing-tag"):
        build_sandbox(runbook("strict-connection-flow"), "nope")


def test_runbook_without_drill_says_where_to_write_one(tmp_path: Path) -> None:
    rb = runbook("payments", path=str(tmp_path / "payments.yaml"))
    with pytest.raises(DrillError, match=r"drills/payments/drill.yaml"):
        build_sandbox(rb)


def test_bad_drill_file_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "drill.yaml"
    path.write_text("drill: 1\nrunbook: x\nfautls: []\n")
    with pytest.raises(DrillError, match="unknown key 'fautls'"):
        load_drill(path)
    path.write_text("drill: 1\nrunbook: [x\n")
    with pytest.raises(DrillError, match=r"drill.yaml:3:1: not valid YAML"):
        load_drill(path)


def test_team_drill_beside_its_runbook_builds_and_a_failed_setup_leaves_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "drills" / "payments"
    (folder / "files").mkdir(parents=True)
    (folder / "files" / "hello.txt").write_text("hi\n")
    (folder / "setup.sh").write_text(
        'echo "$DRILL_FAULT" > "$DRILL_STATE/seen"; [ "$DRILL_FAULT" != boom ]\n'
    )
    (folder / "drill.yaml").write_text(
        "drill: 1\nrunbook: payments\nsetup: setup.sh\nenv: {WHERE: '${DRILL_WORKDIR}/x'}\n"
        "faults:\n  - {name: boom, summary: setup fails}\n  - {name: calm, summary: nothing}\n"
    )
    rb = runbook("payments", path=str(tmp_path / "payments.yaml"))
    with build_sandbox(rb, "calm") as sandbox:
        root = sandbox.root
        assert (sandbox.workdir / "hello.txt").read_text() == "hi\n"
        assert (sandbox.state_dir / "seen").read_text() == "calm\n"
        assert sandbox.env["WHERE"] == f"{sandbox.workdir}/x"
        assert sandbox.env["PATH"].split(":")[0] == str(sandbox.bin_dir)
    assert not root.exists()
    before = set(Path("/tmp").glob("runbook-tui-drill-payments-*"))
    with pytest.raises(DrillError, match=r"setup.*exited 1"):
        build_sandbox(rb, "boom")
    assert set(Path("/tmp").glob("runbook-tui-drill-payments-*")) == before


def test_random_fault_is_recorded_in_the_sandbox() -> None:
    with build_sandbox(runbook("strict-connection-flow"), "random") as sandbox:
        assert sandbox.fault_was_random and len(sandbox.faults) == 1
        recorded = (sandbox.state_dir / "fault").read_text()
        assert recorded.startswith(sandbox.faults[0]) and "random" in recorded


# --- Strict Connection Flow: scripts change real state -------------------------------------


def test_strict_scripts_change_real_state() -> None:
    with build_sandbox(runbook("strict-connection-flow")) as sb:
        sh(sb, "./scripts/feature-flags.sh disable strict-connection-flow --scope=global")
        flags = (sb.state_dir / "flags").read_text()
        assert "strict-connection-flow.global=false" in flags
        assert "legacy" in sh(sb, "./scripts/app.sh status").stdout
        sh(sb, "./scripts/deploy.sh rollback --environment=production --version=v2.5.4")
        assert (sb.state_dir / "deployed_version").read_text().strip() == "v2.5.4"
        refused = sh(sb, "./scripts/migrations.sh rollback --migration=strict-connection-flow", ok=False)
        assert refused.returncode == 1 and "app.sh stop" in refused.stderr
        sh(sb, "./scripts/app.sh stop --environment=production")
        sh(sb, "./scripts/migrations.sh rollback --migration=strict-connection-flow")
        db = sqlite3.connect(sb.state_dir / "app.db")
        columns = [r[1] for r in db.execute("PRAGMA table_info(connections)")]
        assert columns == ["id", "name", "host", "port"]
        assert db.execute("SELECT count(*) FROM schema_migrations").fetchone() == (1,)
        assert db.execute("SELECT count(*) FROM connections").fetchone() == (3,)
        assert "OK:" in sh(sb, "./scripts/migrations.sh verify").stdout


def test_strict_migration_halfway_leaves_a_half_rolled_back_database() -> None:
    with build_sandbox(runbook("strict-connection-flow"), "migration-halfway") as sb:
        sh(sb, "./scripts/app.sh stop --environment=production")
        failed = sh(sb, "./scripts/migrations.sh rollback --migration=strict-connection-flow", ok=False)
        assert failed.returncode == 1 and "half rolled back" in failed.stderr
        db = sqlite3.connect(sb.state_dir / "app.db")
        columns = [r[1] for r in db.execute("PRAGMA table_info(connections)")]
        assert "validation_schema" not in columns and "strict_validated" in columns
        assert sh(sb, "./scripts/app.sh start --environment=production", ok=False).returncode == 1
        sh(sb, "./scripts/migrations.sh repair --migration=strict-connection-flow")
        sh(sb, "./scripts/migrations.sh rollback --migration=strict-connection-flow")
        sh(sb, "./scripts/app.sh start --environment=production")


def test_strict_hang_gives_up_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRILL_HANG_SECONDS", "1")
    with build_sandbox(runbook("strict-connection-flow"), "hang") as sb:
        failed = sh(sb, "./scripts/deploy.sh rollback --environment=production --version=v2.5.4", ok=False)
        assert failed.returncode == 1 and "deploy.sh unlock" in failed.stderr
        sh(sb, "./scripts/deploy.sh unlock")
        sh(sb, "./scripts/deploy.sh rollback --environment=production --version=v2.5.4")


# --- Connectias: a real crate, signed tags, stand-ins -----------------------------------------


def test_connectias_crate_builds_without_default_features_and_tags_verify() -> None:
    with build_sandbox(runbook("connectias")) as sb:
        assert 'default = ["advanced_fuel_metering"]' in (sb.workdir / "Cargo.toml").read_text()
        sh(sb, "cargo build --no-default-features -q")
        metrics = sh(sb, "./target/debug/connectias --metrics").stdout
        assert "advanced_fuel_metering=off" in metrics
        verified = sh(sb, "git tag --verify v1.0.0")
        assert "Good signature" in verified.stderr
        assert sh(sb, "git tag --sort=-version:refname").stdout.split() == [
            "v1.1.0",
            "v1.0.0-secure",
            "v1.0.0-perf",
            "v1.0.0",
        ]
        sh(sb, "gh workflow run deploy.yml -f version_tag=v1.0.0")
        assert (sb.state_dir / "deployed_version").read_text().strip() == "v1.0.0"
        assert "v1.0.0" in sh(sb, "gh run list --workflow=deploy.yml --limit=1").stdout
        assert "ok" in sh(sb, "cargo deny check").stdout
        sh(sb, "git checkout -q -b fix/rollback-issue && git commit -q -m 'Fix: Resolve rollback issue'")


def test_connectias_missing_tag_fails_the_deploy_with_the_fix() -> None:
    with build_sandbox(runbook("connectias"), "missing-tag") as sb:
        failed = sh(sb, "gh workflow run deploy.yml -f version_tag=v1.0.0-secure", ok=False)
        assert failed.returncode == 1 and "does not exist on origin" in failed.stderr
        assert (sb.state_dir / "deployed_version").read_text().strip() == "v1.1.0"


# --- ConnectIn: a real compose project ------------------------------------------------------


def _project_containers(name: str) -> list[str]:
    out = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={name}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


@pytest.mark.slow
@pytest.mark.docker
def test_connectin_good_and_bad_images_answer_200_and_503(docker_client: object) -> None:
    with build_sandbox(runbook("connectin")) as sb:
        project = sb.env["COMPOSE_PROJECT_NAME"]
        assert len(_project_containers(project)) == 2
        bad = httpx.get("http://localhost:5007/health", timeout=5)
        assert bad.status_code == 503 and bad.json()["database"] == "disconnected"
        assert httpx.get("http://localhost:3111/", timeout=5).status_code == 200
        compose = sb.workdir / "docker-compose.yml"
        compose.write_text(compose.read_text().replace("connectin-api:v1.4.2", "connectin-api:v1.4.1"))
        sh(sb, "docker compose down api && docker compose up -d api")
        good = _wait_for(lambda: httpx.get("http://localhost:5007/health", timeout=5))
        assert good.status_code == 200 and good.json() == {
            "status": "ok",
            "database": "connected",
            "version": "v1.4.1",
        }
        status = sh(sb, "npx prisma migrate status", cwd="apps/api").stdout
        assert "3 migrations found" in status
        sh(
            sb,
            "npx prisma migrate resolve --rolled-back 20261118093000_connection_strict_mode",
            cwd="apps/api",
        )
        db = sqlite3.connect(sb.workdir / "apps/api/prisma/dev.db")
        rolled = db.execute(
            'SELECT rolled_back_at FROM "_prisma_migrations" ORDER BY started_at DESC, rowid DESC'
        )
        assert rolled.fetchone()[0] is not None
        smoke = sh(sb, "npm run test:smoke")
        assert "smoke tests passed" in smoke.stdout
        labels = json.loads(
            subprocess.run(
                ["docker", "images", "--format", "{{json .}}", "connectin-api"],
                capture_output=True,
                text=True,
            ).stdout.splitlines()[0]
        )
        assert labels["Repository"] == "connectin-api"
    assert _project_containers(project) == []
    left = subprocess.run(
        ["docker", "images", "-q", "--filter", f"label=runbook-tui.drill={sb.id}"],
        capture_output=True,
        text=True,
    )
    assert left.stdout.strip() == ""
    ls = subprocess.run(["docker", "compose", "ls", "-a", "-q"], capture_output=True, text=True).stdout
    assert project not in ls.split()


def _wait_for(get):  # type: ignore[no-untyped-def]
    import time

    for _ in range(25):
        try:
            return get()
        except httpx.HTTPError:
            time.sleep(0.2)
    return get()


@pytest.mark.slow
def test_connectin_simulated_stack_rolls_back_without_docker_and_stops_its_servers() -> None:
    with build_sandbox(runbook("connectin"), simulated=True) as sb:
        assert sb.simulated and "SIMULATED" in sb.notice
        assert httpx.get("http://localhost:5007/health", timeout=5).status_code == 503
        compose = sb.workdir / "docker-compose.yml"
        compose.write_text(compose.read_text().replace("connectin-api:v1.4.2", "connectin-api:v1.4.1"))
        sh(sb, "docker compose down api && docker compose up -d api")
        good = _wait_for(lambda: httpx.get("http://localhost:5007/health", timeout=5))
        assert good.status_code == 200 and good.json()["database"] == "connected"
    with pytest.raises(httpx.ConnectError):
        httpx.get("http://localhost:5007/health", timeout=2)
