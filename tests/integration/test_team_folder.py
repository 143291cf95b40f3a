"""A team folder on a shared host: two real Unix accounts of one group share sessions and locks.

The cross-account tests create a group and two users (``groupadd``/``useradd``), run the
real CLI as each with ``setpriv``, and remove them again whatever happens. They need root;
outside CI without root they are skipped, in CI they fail.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.cli import cli_argv
from helpers.paths import REPO_ROOT

from runbook_tui import locations
from runbook_tui.config import ConfigError, load_config
from runbook_tui.core.journal import Journal, load

# One worker at a time under xdist (tests/README.md, 'Running in parallel').
pytestmark = pytest.mark.xdist_group("accounts")

ROOT = REPO_ROOT
IN_CI = bool(os.environ.get("CI"))

SLOW = """\
runbook: 1
id: {id}
title: Slow | Rollback
procedures:
  - id: roll
    title: Roll back slowly
    steps:
      - id: pin
        title: Pin a version
        kind: shell
        command: |
          umask 007
          echo {id} >> pins.txt
          touch {id}.started
          for _ in $(seq 600); do [ -f go.flag ] && break; sleep 0.1; done
"""


# --- within one account (no root needed) ---------------------------------------------------


def test_a_configured_private_folder_keeps_journals_0600(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "mine"
    monkeypatch.setenv("RUNBOOK_TUI_SESSIONS_DIR", str(folder))
    assert locations.sessions_dir() == folder
    made = locations.ensure_sessions_dir()
    assert made == folder and stat.S_IMODE(folder.stat().st_mode) == 0o700
    journal = Journal.create("s-1", made, locations.shared_file_mode(made))
    journal.close()
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o600
    assert locations.locks_dir() == locations.data_dir() / "locks"  # not a team folder: private locks


def test_the_config_key_names_the_sessions_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.toml"
    config.write_text('sessions_dir = "team"\n', encoding="utf-8")
    monkeypatch.setenv("RUNBOOK_TUI_CONFIG", str(config))
    assert load_config().sessions_dir == tmp_path / "team"  # relative to the config file
    assert locations.sessions_dir() == tmp_path / "team"
    monkeypatch.setenv("RUNBOOK_TUI_SESSIONS_DIR", str(tmp_path / "env"))
    assert locations.sessions_dir() == tmp_path / "env"  # the environment wins
    config.write_text("sessions_dir = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config.toml:1: sessions_dir must be a folder path"):
        load_config()


def test_a_group_open_folder_that_is_not_setgid_is_refused_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "open"
    folder.mkdir()
    folder.chmod(0o770)
    monkeypatch.setenv("RUNBOOK_TUI_SESSIONS_DIR", str(folder))
    with pytest.raises(locations.DataFolderError, match=r"not setgid.*chmod 2770") as caught:
        locations.ensure_sessions_dir()
    assert str(folder) in str(caught.value)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o770  # refused, never changed


def test_a_team_folder_gets_group_files_and_a_locks_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "team"
    folder.mkdir()
    folder.chmod(0o2770)
    monkeypatch.setenv("RUNBOOK_TUI_SESSIONS_DIR", str(folder))
    made = locations.ensure_sessions_dir()
    assert locations.shared_file_mode(made) == 0o660
    journal = Journal.create("s-1", made, locations.shared_file_mode(made))
    journal.close()
    assert stat.S_IMODE(journal.path.stat().st_mode) == 0o660
    locks = locations.ensure_locks_dir()
    assert locks == folder / "locks" and stat.S_IMODE(locks.stat().st_mode) == 0o2770


def test_the_operator_is_the_effective_account_and_who_ran_sudo(monkeypatch: pytest.MonkeyPatch) -> None:
    from runbook_tui.core.engine import default_operator

    account = pwd.getpwuid(os.geteuid()).pw_name
    host = socket.gethostname()
    monkeypatch.setenv("USER", "somebody-else")  # not what the kernel checks files against
    monkeypatch.setenv("SUDO_USER", "alice")
    assert default_operator() == f"alice as {account}@{host}"
    monkeypatch.setenv("SUDO_USER", account)  # sudo to oneself: one person
    assert default_operator() == f"{account}@{host}"


# --- two real accounts ---------------------------------------------------------------------


@dataclass(frozen=True)
class Team:
    """Two accounts in one group, a shared (setgid) sessions folder and a shared workdir."""

    group: str
    users: tuple[str, str]
    base: Path
    sessions: Path
    work: Path
    config: Path

    def env(self, user: str) -> dict[str, str]:
        home = self.base / user
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(ROOT),
            "PYTHONDONTWRITEBYTECODE": "1",
            "HOME": str(home),
            "LANG": "C.UTF-8",
            "RUNBOOK_TUI_DATA_DIR": str(home / "data"),
            "RUNBOOK_TUI_CONFIG": str(self.config),
            "RUNBOOK_TUI_CACHE_DIR": str(home / "cache"),
            # The team's one chain key (0640, its group reads it): anyone may continue a journal's chain.
            "RUNBOOK_TUI_CHAIN_KEY": str(self.base / "team-chain.key"),
        }

    def argv(self, user: str, *args: str) -> list[str]:
        setpriv = ["setpriv", "--reuid", user, "--regid", user, "--init-groups"]
        return [*setpriv, *cli_argv(*args)]

    def cli(self, user: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(user, *args),
            capture_output=True,
            text=True,
            cwd=self.work,
            timeout=90,
            stdin=subprocess.DEVNULL,
            env=self.env(user),
        )


def _root_or_skip() -> None:
    if os.geteuid() == 0 and shutil.which("useradd") and shutil.which("setpriv"):
        return
    if IN_CI:
        pytest.fail("CI must run the team-folder tests as root with useradd and setpriv")
    pytest.skip("needs root (and useradd, setpriv) to create two real Unix accounts")


def _quiet(*argv: str) -> None:
    subprocess.run(argv, capture_output=True, check=False, timeout=60)


@pytest.fixture
def team() -> Iterator[Team]:
    _root_or_skip()
    tag = f"{os.getpid() % 100000}"
    group, users = f"rbtteam{tag}", (f"rbta{tag}", f"rbtb{tag}")
    base = Path(tempfile.mkdtemp(prefix="rbt-team-", dir="/tmp"))
    try:
        base.chmod(0o755)
        subprocess.run(["groupadd", group], check=True, capture_output=True)
        for user in users:
            # Each account's own primary group (-U): only the setgid folder gives files the team's group.
            subprocess.run(
                ["useradd", "-M", "-U", "-G", group, "-s", "/bin/sh", user], check=True, capture_output=True
            )
            home = base / user
            home.mkdir(mode=0o700)
            shutil.chown(home, user, user)
        gid = grp.getgrnam(group).gr_gid
        sessions = base / "team"
        sessions.mkdir()
        os.chown(sessions, 0, gid)
        sessions.chmod(0o2770)
        work = base / "work"
        work.mkdir()
        os.chown(work, 0, gid)
        work.chmod(0o2770)
        key = base / "team-chain.key"
        key.write_text(secrets.token_hex(32) + "\n")
        os.chown(key, 0, gid)
        key.chmod(0o640)
        config = base / "config.toml"
        config.write_text(f'sessions_dir = "{sessions}"\n', encoding="utf-8")
        config.chmod(0o644)
        for rb_id in ("v3", "v1"):
            (base / f"{rb_id}.yaml").write_text(SLOW.format(id=rb_id), encoding="utf-8")
            (base / f"{rb_id}.yaml").chmod(0o644)
        yield Team(group, users, base, sessions, work, config)
    finally:
        for user in users:
            _quiet("userdel", user)
            _quiet("groupdel", user)  # the -U group, when userdel left it
        _quiet("groupdel", group)
        shutil.rmtree(base, ignore_errors=True)


def _wait_for(path: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(f"the first run ended (rc {proc.returncode}) before its step started: {out}")
        if time.monotonic() > deadline:
            pytest.fail(f"{path} never appeared")
        time.sleep(0.05)


def _owner_group_mode(path: Path) -> tuple[str, str, int]:
    st = path.stat()
    return pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name, stat.S_IMODE(st.st_mode)


@pytest.mark.slow
def test_two_accounts_share_the_team_folder_lock_and_sessions(team: Team) -> None:
    a, b = team.users
    first = subprocess.Popen(
        team.argv(a, "run", str(team.base / "v3.yaml"), "roll", "--plain", "--yes"),
        cwd=team.work,
        env=team.env(a),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(team.work / "v3.started", first)
        (journal,) = team.sessions.glob("*.jsonl")
        assert _owner_group_mode(journal) == (a, team.group, 0o660)  # followers of the group can read it
        (lock,) = (team.sessions / "locks").glob("*.lock")
        assert _owner_group_mode(lock) == (a, team.group, 0o660)
        assert _owner_group_mode(team.sessions / "locks")[1:] == (team.group, 0o2770)

        # B, on their own account, is refused the same working directory, naming A's session.
        refused = team.cli(b, "run", str(team.base / "v1.yaml"), "roll", "--plain", "--yes")
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "Traceback" not in refused.stderr
        assert f"session {journal.stem} of " in refused.stderr and f"{a}@" in refused.stderr
        assert f"runbook-tui follow {journal.stem}" in refused.stderr
        assert (team.work / "pins.txt").read_text().split() == ["v3"]

        # B finds A's live session and reads its report.
        listed = team.cli(b, "sessions")
        assert listed.returncode == 0 and journal.stem in listed.stdout, listed.stdout + listed.stderr
        report = team.cli(b, "report", journal.stem)
        assert report.returncode == 0, report.stderr
        assert f"{a}@" in report.stdout

        (team.work / "go.flag").touch()
        assert first.wait(timeout=60) == 0
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=30)

    started = next(e for e in load(journal).events if e.kind == "session_started")
    operator = started.operator  # type: ignore[attr-defined]
    assert operator == f"{a}@{socket.gethostname()}" or operator.endswith(f" as {a}@{socket.gethostname()}")

    # A's run ended and let go: B now runs there, and A can read B's journal in turn.
    second = team.cli(b, "run", str(team.base / "v1.yaml"), "roll", "--plain", "--yes")
    assert second.returncode == 0, second.stdout + second.stderr
    (theirs,) = [j for j in team.sessions.glob("*.jsonl") if j != journal]
    assert _owner_group_mode(theirs) == (b, team.group, 0o660)
    back = team.cli(a, "report", theirs.stem, "--format", "json")
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout)["session"]["operator"].endswith(f"{b}@{socket.gethostname()}")


def test_a_folder_that_is_not_setgid_is_refused_naming_the_fix(team: Team) -> None:
    a, _ = team.users
    team.sessions.chmod(0o770)  # the group's, but files would get each creator's own group
    result = team.cli(a, "run", str(team.base / "v1.yaml"), "roll", "--plain", "--yes")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert str(team.sessions) in result.stderr
    assert f"chgrp {team.group} {team.sessions} && chmod 2770 {team.sessions}" in result.stderr
    assert stat.S_IMODE(team.sessions.stat().st_mode) == 0o770  # not A's folder: never changed
    assert not list(team.sessions.iterdir())  # nothing was written
    assert not (team.work / "pins.txt").exists()


def test_another_account_resumes_a_killed_session_in_the_team_folder(team: Team) -> None:
    a, b = team.users
    first = subprocess.Popen(
        team.argv(a, "run", str(team.base / "v3.yaml"), "roll", "--plain", "--yes"),
        cwd=team.work,
        env=team.env(a),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for(team.work / "v3.started", first)
    finally:
        os.killpg(first.pid, signal.SIGKILL)  # A's session dies holding the lock
        first.wait(timeout=30)
    (journal,) = team.sessions.glob("*.jsonl")
    (stale,) = (team.sessions / "locks").glob("*.lock")
    assert _owner_group_mode(stale)[0] == a  # A's lock file, no longer held by anyone
    (team.work / "go.flag").touch()

    # The handoff: B resumes A's journal, takes over A's stale lock, and appends to A's file.
    resumed = team.cli(b, "resume", journal.stem, "--plain", "--yes")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert f"by {a}@" in resumed.stderr  # who started it
    kinds = [e.kind for e in load(journal).events]
    assert "session_resumed" in kinds and kinds[-1] == "session_finished"
    resumed_by = next(e for e in load(journal).events if e.kind == "session_resumed")
    assert f"{b}@" in resumed_by.operator  # type: ignore[attr-defined]
    assert _owner_group_mode(journal) == (a, team.group, 0o660)
    assert not list((team.sessions / "locks").glob("*.lock"))  # B released (and removed) it
