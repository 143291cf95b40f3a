"""The tamper-evident journal (issue 17): every line chained with a keyed hash; ``verify`` names
the first line changed, removed or inserted; resume and ``note`` continue the chain."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers.cli import run_cli
from helpers.journals import JournalWriter, rich_session
from helpers.resume import finished_session, killed_session

from runbook_tui import locations
from runbook_tui.core.journal import chain as journal_chain
from runbook_tui.core.journal import load, read_ends


def verify(journal: Path, *extra: str) -> tuple[int, str]:
    done = run_cli("verify", str(journal), *extra, cwd=journal.parent)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    return finished_session(tmp_path / "work")


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_an_untouched_journal_is_intact_and_the_key_is_private(journal: Path) -> None:
    code, said = verify(journal)
    assert code == 0, said
    assert "intact" in said
    key = locations.config_dir() / "chain.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert journal_chain.load_key().fingerprint in said
    assert all(b'"h":"' in line for line in _lines(journal))
    assert load(journal).problems == []  # readers do not see the hash as damage


def test_one_character_changed_in_a_middle_line_is_named(journal: Path) -> None:
    lines = _lines(journal)
    middle = len(lines) // 2
    lines[middle] = lines[middle].replace(b'"at":"2', b'"at":"1', 1)
    journal.write_bytes(b"".join(lines))
    code, said = verify(journal)
    assert code == 1
    assert f":{middle + 1}: tampered: line {middle + 1} was changed" in said


def test_a_deleted_line_is_named(journal: Path) -> None:
    lines = _lines(journal)
    del lines[4]
    journal.write_bytes(b"".join(lines))
    code, said = verify(journal)
    assert code == 1
    assert "a line was removed before line 5" in said


def test_an_inserted_line_is_named(journal: Path) -> None:
    lines = _lines(journal)
    lines.insert(4, lines[3])  # a copy of a genuine line, hash and all
    journal.write_bytes(b"".join(lines))
    code, said = verify(journal)
    assert code == 1
    assert "line 5 was inserted" in said


def test_a_line_without_its_hash_in_a_chained_journal_is_tampering(journal: Path) -> None:
    lines = _lines(journal)
    body = journal_chain.split(lines[3].rstrip(b"\n"))
    assert body is not None
    lines[3] = body[0] + b"}\n"
    journal.write_bytes(b"".join(lines))
    code, said = verify(journal)
    assert code == 1 and "line 4 has no chain hash" in said


def test_a_header_that_drops_the_chain_is_tampering(journal: Path) -> None:
    lines = _lines(journal)
    header = json.loads(lines[0])
    header.pop("chain")
    header.pop("h")
    lines[0] = json.dumps(header).encode() + b"\n"
    journal.write_bytes(b"".join(lines))
    code, said = verify(journal)
    assert code == 1 and "header" in said


def test_a_journal_written_before_chaining_is_unchained(tmp_path: Path) -> None:
    old = rich_session(locations.sessions_dir())
    code, said = verify(old)
    assert code == 3 and "unchained" in said


def test_resume_and_note_continue_the_chain(tmp_path: Path) -> None:
    work = tmp_path / "work"
    journal = killed_session(work)
    (work / "resumed.flag").touch()
    resumed = run_cli("resume", journal.stem, "--plain", "--yes", cwd=work)
    assert resumed.returncode == 0, resumed.stderr
    assert verify(journal)[0] == 0
    assert (
        run_cli("note", journal.stem, "--action", "write it down", "--owner", "bob", cwd=work).returncode == 0
    )
    code, said = verify(journal)
    assert code == 0, said
    report = json.loads(run_cli("report", journal.stem, "--format", "json", cwd=work).stdout)
    assert report["chain"]["head"] == said.split("head ")[1].split(",")[0]
    assert report["chain"]["key_fingerprint"] == journal_chain.load_key().fingerprint


def test_a_torn_last_line_is_said_not_tampering(journal: Path) -> None:
    with journal.open("ab") as handle:
        handle.write(b'{"kind":"note_added","at":"2026-')
    code, said = verify(journal)
    assert code == 0 and "cut off" in said


def test_another_key_cannot_verify_and_a_shared_key_can(journal: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    other.write_text(os.urandom(32).hex())
    other.chmod(0o600)
    code, said = verify(journal, "--key", str(other))
    assert code == 2 and "chained with key" in said
    shared = tmp_path / "shared.key"
    shared.write_bytes((locations.config_dir() / "chain.key").read_bytes())
    shared.chmod(0o600)
    assert verify(journal, "--key", str(shared))[0] == 0


def test_the_key_path_comes_from_the_environment_or_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    team = tmp_path / "team" / "chain.key"
    config = locations.config_file()
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'chain_key = "{team}"\n')
    assert journal_chain.key_path() == team
    made = journal_chain.load_key()
    assert team.exists() and made.path == team
    monkeypatch.setenv(journal_chain.ENV_KEY, str(tmp_path / "env.key"))
    assert journal_chain.key_path() == tmp_path / "env.key"


def test_a_damaged_line_accepted_at_resume_is_named_as_such(journal: Path) -> None:
    lines = _lines(journal)
    lines[3] = lines[3].replace(b'"kind":"', b'"kind":"x', 1)
    journal.write_bytes(b"".join(lines))
    header, _ = read_ends(journal)
    chain = journal_chain.resume_chain(header, journal_chain.last_line(journal))
    assert chain is not None
    accepted = json.dumps({"kind": "damaged_line_accepted", "at": "2026-11-27T00:00:00.000000Z", "line": 4})
    with journal.open("ab") as handle:
        handle.write(chain.seal(accepted.encode() + b"\n"))
    code, said = verify(journal)
    assert code == 1
    assert "line 4 was damaged and accepted at a resume" in said


def test_a_legacy_writer_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    JournalWriter(path, "x")
    assert load(path).header["session_id"] == "x"
