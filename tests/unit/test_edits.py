"""File edits on real files: diff, atomic write with backup, refusal when changed, undo."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from runbook_tui.core import edits
from runbook_tui.core.edits import EditError


def _plan(path: Path, after: bytes) -> edits.FileEdit:
    return edits.plan(path, path.read_bytes(), after, "test edit")


def test_unified_diff_names_the_file_and_shows_the_change() -> None:
    diff = edits.unified_diff("Cargo.toml", b"a\nb\nc\n", b"a\nB\nc\n")
    assert diff.splitlines()[:2] == ["--- a/Cargo.toml", "+++ b/Cargo.toml"]
    assert "-b" in diff.splitlines() and "+B" in diff.splitlines()
    assert edits.unified_diff("x", b"same\n", b"same\n") == ""


def test_unified_diff_shows_a_lost_final_newline() -> None:
    diff = edits.unified_diff("f", b"a\n", b"a")
    assert "\\ No newline at end of file" in diff


def test_apply_writes_keeps_mode_and_backup(tmp_path: Path) -> None:
    path = tmp_path / "Cargo.toml"
    path.write_bytes(b"one\ntwo\n")
    path.chmod(0o640)
    applied = edits.apply(_plan(path, b"one\nTWO\n"), tmp_path / "backups")
    assert path.read_bytes() == b"one\nTWO\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert applied.backup.read_bytes() == b"one\ntwo\n"
    assert stat.S_IMODE(applied.backup.stat().st_mode) == 0o600
    assert applied.before_sha256 == edits.sha256(b"one\ntwo\n")
    assert applied.after_sha256 == edits.sha256(b"one\nTWO\n")
    assert "+TWO" in applied.diff
    # No temporary file is left beside the edited file.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Cargo.toml", "backups"]


def test_backups_get_unique_names(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"0")
    first = edits.apply(_plan(path, b"1"), tmp_path / "b")
    second = edits.apply(_plan(path, b"2"), tmp_path / "b")
    assert first.backup != second.backup
    assert first.backup.read_bytes() == b"0" and second.backup.read_bytes() == b"1"


def test_apply_refuses_when_the_file_changed_since_the_diff(tmp_path: Path) -> None:
    path = tmp_path / "docker-compose.yml"
    path.write_bytes(b"image: api:1\n")
    edit = _plan(path, b"image: api:0\n")
    path.write_bytes(b"image: api:2\n")  # someone else edits it meanwhile
    with pytest.raises(EditError) as err:
        edits.apply(edit, tmp_path / "b")
    assert "docker-compose.yml" in str(err.value) and "changed on disk" in str(err.value)
    assert path.read_bytes() == b"image: api:2\n"
    assert not (tmp_path / "b").exists()


def test_apply_refuses_when_the_file_is_gone(tmp_path: Path) -> None:
    path = tmp_path / "gone.toml"
    path.write_bytes(b"x")
    edit = _plan(path, b"y")
    path.unlink()
    with pytest.raises(EditError, match="no longer exists"):
        edits.apply(edit, tmp_path / "b")
    assert not path.exists()


def test_apply_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    real = tmp_path / "real.toml"
    real.write_bytes(b"a")
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    applied = edits.apply(_plan(link, b"b"), tmp_path / "b")
    assert link.is_symlink() and real.read_bytes() == b"b"
    edits.undo(applied)
    assert link.is_symlink() and real.read_bytes() == b"a"


def test_undo_restores_and_returns_the_restored_sha(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"before\n")
    path.chmod(0o755)
    applied = edits.apply(_plan(path, b"after\n"), tmp_path / "b")
    assert edits.undo(applied) == edits.sha256(b"before\n")
    assert path.read_bytes() == b"before\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o755


def test_undo_after_a_second_edit_goes_back_one_edit_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"v0\n")
    first = edits.apply(_plan(path, b"v1\n"), tmp_path / "b")
    second = edits.apply(_plan(path, b"v2\n"), tmp_path / "b")
    # The first edit cannot be undone while the second is on top of it.
    with pytest.raises(EditError, match="changed since the edit"):
        edits.undo(first)
    assert path.read_bytes() == b"v2\n"
    edits.undo(second)
    assert path.read_bytes() == b"v1\n"
    edits.undo(first)
    assert path.read_bytes() == b"v0\n"


def test_undo_refuses_when_the_file_changed_since_the_edit(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"a")
    applied = edits.apply(_plan(path, b"b"), tmp_path / "b")
    path.write_bytes(b"c")
    with pytest.raises(EditError) as err:
        edits.undo(applied)
    assert str(applied.backup) in str(err.value)
    assert path.read_bytes() == b"c"


def test_undo_refuses_a_tampered_backup(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"a")
    applied = edits.apply(_plan(path, b"b"), tmp_path / "b")
    os.chmod(applied.backup, 0o600)
    applied.backup.write_bytes(b"not the original")
    with pytest.raises(EditError, match="does not match"):
        edits.undo(applied)
    assert path.read_bytes() == b"b"


def test_a_failed_write_leaves_the_file_and_no_temp(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "f"
    path.write_bytes(b"a")
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user who can write to read-only folders (root)")
        with pytest.raises(EditError, match="left unchanged"):
            edits.apply(_plan(path, b"b"), tmp_path / "b")
    finally:
        folder.chmod(0o700)
    assert path.read_bytes() == b"a"
    assert [p.name for p in folder.iterdir()] == ["f"]


def test_undo_keeps_owner_links_and_read_only_rules(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"a")
    path.chmod(0o444)
    applied = edits.apply(edits.plan(path, b"a", b"b", "t", allow_read_only=True), tmp_path / "b")
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    os.link(path, tmp_path / "g")
    with pytest.raises(EditError, match="2 hard links"):
        edits.undo(applied)  # restoring would split the two names
    (tmp_path / "g").unlink()
    edits.undo(applied)  # the edit was allowed on a read-only file, so is its undo
    assert path.read_bytes() == b"a" and stat.S_IMODE(path.stat().st_mode) == 0o444
