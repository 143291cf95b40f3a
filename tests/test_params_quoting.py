"""Parameter values reach the shell as literal text, whatever quotes surround the placeholder."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from runbook_tui.core.params import render

EVIL = "v1; $(touch {canary}) `touch {canary}` \"x' \\ ${{HOME}} rm -rf ~"


@pytest.mark.parametrize(
    ("command", "prefix", "suffix"),
    [
        ('printf "%s" {{v}}', "", ""),
        ('printf "%s" "Rollback to {{v}}"', "Rollback to ", ""),
        ("printf '%s' 'Rollback to {{v}} now'", "Rollback to ", " now"),
        ('printf "%s" "a\\"{{v}}"', 'a"', ""),
        ('printf "%s" x{{v}}y', "x", "y"),
        ("printf '%s' \"it's {{v}}\"", "it's ", ""),
    ],
)
def test_value_is_one_inert_literal(tmp_path: Path, command: str, prefix: str, suffix: str) -> None:
    canary = tmp_path / "pwned"
    value = EVIL.format(canary=canary)
    rendered = render(command, {"v": value}, shell=True)
    done = subprocess.run(["bash", "-c", rendered], capture_output=True, text=True)
    assert done.stdout == prefix + value + suffix
    assert not canary.exists()


def test_plain_text_is_not_quoted() -> None:
    assert render("http://localhost/{{v}}", {"v": "a b"}) == "http://localhost/a b"


def test_go_templates_and_github_expressions_are_not_placeholders() -> None:
    text = "docker images x --format '{{.Tag}}' ${{ github.sha }}"
    assert render(text, {}, shell=True) == text


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("cat <<EOF\nversion {{v}} ok\nEOF", "version {value} ok\n"),
        ("cat <<'EOF'\nversion {{v}} ok\nEOF", "version {value} ok\n"),
        ("cat <<-EOF\n\tversion {{v}}\n\tEOF\nprintf '%s' {{v}}", "version {value}\n{value}"),
        ("cat <<EOF\nit's\nEOF\nprintf '%s' {{v}}", "it's\n{value}"),
    ],
)
def test_here_documents_keep_values_literal(tmp_path: Path, command: str, expected: str) -> None:
    canary = tmp_path / "pwned"
    value = EVIL.format(canary=canary)
    done = subprocess.run(
        ["bash", "-c", render(command, {"v": value}, shell=True)], capture_output=True, text=True
    )
    assert done.stdout == expected.format(value=value)
    assert not canary.exists()


def test_a_value_that_would_end_a_here_document_is_refused() -> None:
    from runbook_tui.core.errors import ParameterError

    with pytest.raises(ParameterError, match="ends the here-document"):
        render("cat <<EOF\n{{v}}\nEOF\n", {"v": "EOF"}, shell=True)
