"""Parameters: placeholders, fail-closed validation, shell quoting (checked by a real sh), redaction."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from runbook_tui.core.errors import ParameterError
from runbook_tui.core.model import Parameter
from runbook_tui.core.params import REDACTED, Redactor, placeholders, render, validate

HOSTILE = [
    "v1; touch {canary}",
    "$(touch {canary})",
    "`touch {canary}`",
    "' ; touch {canary}; '",
    '" ; touch {canary}; "',
    '\\"; touch {canary}; \\"',
    "a b  c",
    "*",
]


def test_placeholders_in_order_of_first_use() -> None:
    text = "deploy {{tag}} to {{ env }} then {{tag}} again"
    assert placeholders(text) == ["tag", "env"]


@pytest.mark.parametrize(
    "text",
    [
        "docker images --format '{{.Tag}}'",
        "${{ github.ref }}",
        "${{ secrets }}",
        "{{ 1abc }}",
        "{{}}",
        "{tag}",
    ],
)
def test_go_templates_and_github_expressions_are_not_placeholders(text: str) -> None:
    assert placeholders(text) == []


def test_render_plain_substitutes_as_is() -> None:
    assert (
        render("Rollback to {{tag}} ({{ why }})", {"tag": "v1 x", "why": "bad"}) == "Rollback to v1 x (bad)"
    )


def test_render_missing_value_names_the_parameter() -> None:
    with pytest.raises(ParameterError) as info:
        render("git checkout {{tag}}", {})
    assert info.value.name == "tag"


def _sh(command: str, values: dict[str, str]) -> str:
    """Run the command as the engine does: references in the text, values in the environment."""
    done = subprocess.run(
        ["sh", "-c", render(command, values, shell=True)],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", **values},
    )
    return done.stdout


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("printf '%s|' {{v}}", "{v}|"),
        ("printf '%s|' pre-{{v}}-post", "pre-{v}-post|"),
        ("printf '%s|' \"Rollback to {{v}}\"", "Rollback to {v}|"),
        ('printf \'%s|\' "a\\"b {{v}}"', 'a"b {v}|'),
    ],
)
def test_shell_values_stay_one_inert_word(tmp_path: Path, value: str, template: str, expected: str) -> None:
    canary = tmp_path / "pwned"
    value = value.format(canary=canary)
    output = _sh(template, {"v": value})
    assert output == expected.format(v=value)
    assert not canary.exists()


def _param(**kw: object) -> Parameter:
    return Parameter(name="tag", **kw)  # type: ignore[arg-type]


def test_validate_required_and_default() -> None:
    with pytest.raises(ParameterError, match="is required"):
        validate(_param(), None)
    assert validate(_param(default="v1"), "") == "v1"
    assert validate(_param(required=False), None) == ""


def test_validate_choices_and_pattern_both_apply() -> None:
    param = _param(choices=("v1", "v2", "bad tag"), pattern=r"v\d+")
    assert validate(param, "v2") == "v2"
    with pytest.raises(ParameterError, match="not one of"):
        validate(param, "v3")
    with pytest.raises(ParameterError, match="does not match"):
        validate(param, "bad tag")  # in the choices, but the pattern still applies


def test_validate_pattern_is_whole_value() -> None:
    param = _param(pattern=r"v\d+", example="v1")
    with pytest.raises(ParameterError, match=r"for example v1"):
        validate(param, "v1; rm -rf ~")


def test_invalid_pattern_rejects_everything() -> None:
    with pytest.raises(ParameterError, match="pattern is invalid"):
        validate(_param(pattern="(v"), "v1")


@pytest.mark.parametrize("value", ["a\nb", "a\x00b"])
def test_values_are_one_line(value: str) -> None:
    with pytest.raises(ParameterError, match="one line"):
        validate(_param(), value)


def test_default_is_validated_too() -> None:
    with pytest.raises(ParameterError):
        validate(_param(default="latest", pattern=r"v\d+"), None)


def test_redactor_hides_every_secret_longest_first() -> None:
    redact = Redactor(["hunter2", "hunter2-extra"])
    assert redact("pw=hunter2-extra and hunter2") == f"pw={REDACTED} and {REDACTED}"
    assert bool(redact)
    assert not Redactor()
    assert Redactor([""])("text") == "text"
