"""The drill command's non-interactive paths: listing faults and refusing unknown ones."""

from __future__ import annotations

import pytest

from runbook_tui.cli import main


def test_list_faults_names_each_fault_with_its_step(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drill", "strict-connection-flow", "--list-faults"]) == 0
    out = capsys.readouterr().out
    assert "migration-halfway" in out and "[database-rollback: run-database-rollback]" in out


def test_unknown_fault_exits_2_listing_the_faults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drill", "connectias", "--fault", "nope"]) == 2
    assert "its faults: health-still-failing, missing-tag, hang" in capsys.readouterr().err


def test_unknown_procedure_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["drill", "connectias", "nope"]) == 2
    assert "has no procedure 'nope'" in capsys.readouterr().err
