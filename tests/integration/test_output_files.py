"""``report -o`` and ``import -o``: symlinks written through, non-regular paths refused, owners kept.

Real symlinks, a real FIFO (``os.mkfifo``) and a real directory; ``/dev/null`` is never
used as a target, since a failure here would replace the machine's own.
"""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.journals import rich_session

from runbook_tui import locations
from runbook_tui.core.output_files import OutputFileError, write_output

MARKDOWN = """# Rollback

## Roll back the API

1. Pin the previous tag:

   ```bash
   docker compose up -d api
   ```
"""


def _report(target: Path) -> subprocess.CompletedProcess[str]:
    rich_session(locations.sessions_dir())
    return run_cli("report", "ab12", "-o", str(target))


def _import(tmp_path: Path, target: Path) -> subprocess.CompletedProcess[str]:
    source = tmp_path / "rollback.md"
    source.write_text(MARKDOWN)
    return run_cli("import", str(source), "-o", str(target))


@pytest.fixture(params=["report", "import"])
def command(request: pytest.FixtureRequest) -> str:
    """Each test runs against both commands that take ``-o``."""
    return str(request.param)


def _write(command: str, tmp_path: Path, target: Path) -> subprocess.CompletedProcess[str]:
    return _report(target) if command == "report" else _import(tmp_path, target)


def test_a_symlink_is_written_through_and_stays_a_link(command: str, tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    real = tmp_path / "out" / "real.txt"
    real.write_text("old\n")
    link = tmp_path / "latest"
    link.symlink_to(Path("out") / "real.txt")
    result = _write(command, tmp_path, link)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == "out/real.txt"
    assert real.read_text() != "old\n" and len(real.read_text()) > 20
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["real.txt"]  # no temp file left


def test_a_fifo_is_refused_and_left_alone(command: str, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = _write(command, tmp_path, fifo)  # opening a FIFO to write would block: it must not be opened
    assert result.returncode == 2, result.stderr
    assert "is a FIFO (named pipe), not a regular file" in result.stderr and "Traceback" not in result.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_directory_is_refused_and_left_alone(command: str, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    result = _write(command, tmp_path, folder)
    assert result.returncode == 2
    assert "is a directory, not a regular file" in result.stderr and "Traceback" not in result.stderr
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_a_link_to_a_fifo_is_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "out.md"
    link.symlink_to(fifo)
    result = _report(link)
    assert result.returncode == 2 and f"(a link to {fifo})" in result.stderr
    assert link.is_symlink() and stat.S_ISFIFO(fifo.lstat().st_mode)


def test_an_existing_file_keeps_its_owner_group_and_mode(command: str, tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a file to nobody needs root")
    nobody = pwd.getpwnam("nobody")
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    os.chown(target, nobody.pw_uid, nobody.pw_gid)
    target.chmod(0o640)
    result = _write(command, tmp_path, target)
    assert result.returncode == 0, result.stderr
    st = target.stat()
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (nobody.pw_uid, nobody.pw_gid, 0o640)
    assert target.read_text() != "old\n"


def test_a_hard_linked_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "out.md"
    target.write_text("old\n")
    os.link(target, tmp_path / "other.md")
    with pytest.raises(OutputFileError, match="2 hard links"):
        write_output(target, "new\n")
    assert target.read_text() == "old\n" and (tmp_path / "other.md").read_text() == "old\n"


def test_a_new_file_gets_the_umask_mode(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        written = write_output(tmp_path / "new.md", "text\n")
    finally:
        os.umask(old)
    assert written == tmp_path / "new.md"
    assert stat.S_IMODE(written.stat().st_mode) == 0o640 and written.read_text() == "text\n"
