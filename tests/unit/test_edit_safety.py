"""Edits change only the bytes: owner, group, mode, links and place are kept or refused, on real files."""

from __future__ import annotations

import asyncio
import os
import pwd
import stat
from pathlib import Path

import pytest
from helpers.engine import Recorder, ScriptedAsker, runbook_from

from runbook_tui.core import edits
from runbook_tui.core import events as ev
from runbook_tui.core.edits import EditError
from runbook_tui.core.engine import Session
from runbook_tui.core.errors import RunbookLoadError
from runbook_tui.core.events import StepStatus
from runbook_tui.core.loader import load_text
from runbook_tui.core.model import ComposeImageSpec

COMPOSE = b"services:\n  api:\n    image: api:v2\n"
EDITED = b"services:\n  api:\n    image: api:v1\n"


def _runbook(folder: Path, extra: str = "", file: str = "docker-compose.yml") -> str:
    return f"""
runbook: 1
id: pin
title: Pin
parameters:
  - name: file
    default: docker-compose.yml
procedures:
  - id: main
    title: Main
    steps:
      - id: pin
        title: Pin api
        kind: compose_image
        service: api
        tag: v1
        file: "{file}"
{extra}"""


def _run(
    workdir: Path, text: str, params: dict[str, str] | None = None
) -> tuple[Session, ScriptedAsker, Recorder]:
    runbook = runbook_from(workdir, text)
    asker = ScriptedAsker()
    session = Session(runbook, "main", workdir=workdir, ask=asker, params=params, backup_dir=workdir / ".b")
    recorder = Recorder()
    session.subscribe(recorder)

    async def go() -> None:
        await session.start()
        await session.run_step("pin")

    asyncio.run(go())
    return session, asker, recorder


def _message(session: Session) -> str:
    return session.state.step("pin").message


def test_owner_group_and_mode_are_kept_by_the_edit_and_by_undo(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("changing a file's owner to nobody needs root")
    nobody = pwd.getpwnam("nobody")
    path = tmp_path / "docker-compose.yml"
    path.write_bytes(COMPOSE)
    os.chown(path, nobody.pw_uid, nobody.pw_gid)
    path.chmod(0o640)
    session, _, _ = _run(tmp_path, _runbook(tmp_path))
    assert session.state.step("pin").status is StepStatus.PASSED
    after = path.stat()
    assert path.read_bytes() == EDITED
    assert (after.st_uid, after.st_gid, stat.S_IMODE(after.st_mode)) == (nobody.pw_uid, nobody.pw_gid, 0o640)
    session.undo_edit("pin")
    restored = path.stat()
    assert path.read_bytes() == COMPOSE
    assert (restored.st_uid, restored.st_gid, stat.S_IMODE(restored.st_mode)) == (
        nobody.pw_uid,
        nobody.pw_gid,
        0o640,
    )


def test_a_read_only_file_is_refused_before_the_confirmation(tmp_path: Path) -> None:
    path = tmp_path / "docker-compose.yml"
    path.write_bytes(COMPOSE)
    path.chmod(0o444)
    session, asker, _ = _run(tmp_path, _runbook(tmp_path))
    assert session.state.step("pin").status is StepStatus.FAILED
    assert "is read-only (mode 0444)" in _message(session) and "allow_read_only: true" in _message(session)
    assert asker.confirms == []  # refused before anything was asked
    assert path.read_bytes() == COMPOSE and stat.S_IMODE(path.stat().st_mode) == 0o444


def test_allow_read_only_edits_it_and_keeps_it_read_only(tmp_path: Path) -> None:
    path = tmp_path / "docker-compose.yml"
    path.write_bytes(COMPOSE)
    path.chmod(0o444)
    session, _, _ = _run(tmp_path, _runbook(tmp_path, "        allow_read_only: true\n"))
    assert session.state.step("pin").status is StepStatus.PASSED, _message(session)
    assert path.read_bytes() == EDITED and stat.S_IMODE(path.stat().st_mode) == 0o444


def test_a_file_with_several_hard_links_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "docker-compose.yml"
    path.write_bytes(COMPOSE)
    other = tmp_path / "compose.prod.yml"
    os.link(path, other)
    session, _, _ = _run(tmp_path, _runbook(tmp_path))
    assert session.state.step("pin").status is StepStatus.FAILED
    assert "has 2 hard links" in _message(session)
    assert path.read_bytes() == COMPOSE and other.read_bytes() == COMPOSE
    assert path.stat().st_ino == other.stat().st_ino  # still one file under two names


def test_apply_rechecks_links_made_after_the_plan(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"a")
    edit = edits.plan(path, b"a", b"b", "t")
    os.link(path, tmp_path / "g")
    with pytest.raises(EditError, match="hard links"):
        edits.apply(edit, tmp_path / "b")
    assert path.read_bytes() == b"a"


@pytest.mark.parametrize("value", ["/abs/path", "../../outside"])
def test_a_parameter_cannot_point_an_edit_outside_the_working_directory(tmp_path: Path, value: str) -> None:
    workdir = tmp_path / "work" / "dir"
    workdir.mkdir(parents=True)
    (workdir / "docker-compose.yml").write_bytes(COMPOSE)
    outside = tmp_path / "outside"
    outside.write_bytes(COMPOSE)
    target = str(outside) if value.startswith("/") else value
    session, asker, _ = _run(workdir, _runbook(workdir, file="{{file}}"), {"file": target})
    assert session.state.step("pin").status is StepStatus.FAILED
    assert "outside the working directory" in _message(session) and "outside_workdir: true" in _message(
        session
    )
    assert str(outside) in _message(session)
    assert asker.confirms == []
    assert outside.read_bytes() == COMPOSE


def test_a_symlink_pointing_out_is_refused(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    outside = tmp_path / "elsewhere.yml"
    outside.write_bytes(COMPOSE)
    (workdir / "docker-compose.yml").symlink_to(outside)
    session, _, _ = _run(workdir, _runbook(workdir))
    assert session.state.step("pin").status is StepStatus.FAILED
    assert "outside the working directory" in _message(session)
    assert outside.read_bytes() == COMPOSE


def test_outside_workdir_opts_out_and_names_the_file_by_its_absolute_path(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    outside = tmp_path / "shared.yml"
    outside.write_bytes(COMPOSE)
    session, asker, _ = _run(
        workdir, _runbook(workdir, "        outside_workdir: true\n", file="{{file}}"), {"file": str(outside)}
    )
    assert session.state.step("pin").status is StepStatus.PASSED, _message(session)
    assert outside.read_bytes() == EDITED
    (request,) = asker.confirms
    assert request.diff is not None
    assert request.diff.splitlines()[:2] == [f"--- {outside}", f"+++ {outside}"]


def test_a_symlink_is_resolved_and_the_real_path_is_shown(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    real = tmp_path / "deploy" / "compose.prod.yml"
    real.write_bytes(COMPOSE)
    link = tmp_path / "docker-compose.yml"
    link.symlink_to(Path("deploy") / "compose.prod.yml")
    session, asker, recorder = _run(tmp_path, _runbook(tmp_path))
    assert session.state.step("pin").status is StepStatus.PASSED, _message(session)
    (request,) = asker.confirms
    assert request.diff is not None
    assert request.diff.splitlines()[:2] == ["--- a/deploy/compose.prod.yml", "+++ b/deploy/compose.prod.yml"]
    assert "deploy/compose.prod.yml (through the link docker-compose.yml)" in request.message
    assert link.is_symlink() and real.read_bytes() == EDITED
    (edited,) = recorder.of(ev.FileEdited)
    assert isinstance(edited, ev.FileEdited) and edited.path == str(real)


def test_diff_headers_are_clean_relative_paths(tmp_path: Path) -> None:
    (tmp_path / "docker-compose.yml").write_bytes(COMPOSE)
    _, asker, _ = _run(tmp_path, _runbook(tmp_path))
    (request,) = asker.confirms
    assert request.diff is not None
    assert request.diff.splitlines()[:2] == ["--- a/docker-compose.yml", "+++ b/docker-compose.yml"]


@pytest.mark.parametrize("make", ["fifo", "directory"])
def test_what_is_not_a_regular_file_is_refused_without_reading_it(tmp_path: Path, make: str) -> None:
    path = tmp_path / "docker-compose.yml"
    if make == "fifo":
        os.mkfifo(path)
    else:
        path.mkdir()
    session, _, _ = _run(tmp_path, _runbook(tmp_path))  # a FIFO read would block here
    assert session.state.step("pin").status is StepStatus.FAILED
    assert ("a FIFO" if make == "fifo" else "a directory") in _message(session)
    assert "not a regular file" in _message(session)


def test_cargo_steps_are_contained_too(tmp_path: Path) -> None:
    workdir = tmp_path / "w"
    workdir.mkdir()
    cargo = tmp_path / "Cargo.toml"
    cargo.write_text('[package]\nname = "x"\n[features]\ndefault = ["a"]\na = []\nb = []\n')
    text = """
runbook: 1
id: cargo
title: Cargo
procedures:
  - id: main
    title: Main
    steps:
      - id: pin
        title: Features
        kind: cargo_features
        file: ../Cargo.toml
        add: [b]
"""
    session, _, _ = _run(workdir, text)
    assert session.state.step("pin").status is StepStatus.FAILED
    assert "outside the working directory" in _message(session)
    assert "b" not in cargo.read_text().split("default = ")[1].split("\n")[0]


def test_the_edit_keys_must_be_booleans(tmp_path: Path) -> None:
    text = _runbook(tmp_path, "        outside_workdir: sure\n")
    with pytest.raises(RunbookLoadError) as err:
        load_text(text, str(tmp_path / "r.yaml"))
    assert "'outside_workdir'" in str(err.value.problems[0]) and "true or false" in str(err.value.problems[0])
    ok = load_text(
        _runbook(tmp_path, "        outside_workdir: true\n        allow_read_only: true\n"), "r.yaml"
    )
    spec = ok.procedures[0].steps[0].spec
    assert isinstance(spec, ComposeImageSpec)
    assert spec.outside_workdir is True and spec.allow_read_only is True


def test_a_read_only_file_already_as_wanted_passes_without_writing(tmp_path: Path) -> None:
    path = tmp_path / "docker-compose.yml"
    path.write_bytes(EDITED)
    path.chmod(0o444)
    session, asker, _ = _run(tmp_path, _runbook(tmp_path))
    assert session.state.step("pin").status is StepStatus.PASSED, _message(session)
    assert "already" in _message(session) and asker.confirms == []
