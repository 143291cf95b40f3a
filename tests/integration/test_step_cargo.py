"""cargo_features steps on real Cargo.toml files; hypothesis proves only the default array changes."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runbook_tui.core import edits
from runbook_tui.core.edits import EditError
from runbook_tui.core.events import StepStatus
from runbook_tui.core.model import CargoFeaturesSpec, Step, StepKind
from runbook_tui.core.steps.cargo_features import CargoFeaturesRunner, plan_cargo_edit

SEED_TOML = """\
# Cargo.toml for the fuel service
[package]
name = "fuel"   # the crate
version = "0.3.1"
edition = "2021"

[features]
# keep advanced metering on by default until the rollout ends
default = ["advanced_fuel_metering", "metrics"]  # see RUNBOOK.md
advanced_fuel_metering = []
metrics = []
tracing = ["dep:tracing"]

[dependencies]
tracing = { version = "0.1", optional = true }
"""


@dataclass
class Ctx:
    workdir: Path
    backup_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    drill: bool = False
    lines: list[tuple[str, str]] = field(default_factory=list)

    def output(self, text: str, stream: str = "stdout") -> None:
        self.lines.append((stream, text))


def _step(**spec: Any) -> Step:
    return Step(
        id="features", title="Change features", kind=StepKind.CARGO_FEATURES, spec=CargoFeaturesSpec(**spec)
    )


def _ctx(tmp_path: Path, text: str = SEED_TOML) -> Ctx:
    (tmp_path / "Cargo.toml").write_text(text)
    return Ctx(workdir=tmp_path, backup_dir=tmp_path / "backups")


def _default(path: Path) -> list[str]:
    return [str(v) for v in tomlkit.parse(path.read_text())["features"]["default"]]


async def test_remove_a_feature_keeps_every_other_byte(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    outcome = await CargoFeaturesRunner().run(_step(remove=("advanced_fuel_metering",)), ctx)
    assert outcome.status is StepStatus.PASSED, outcome.message
    expected = SEED_TOML.replace('["advanced_fuel_metering", "metrics"]', '["metrics"]')
    assert (tmp_path / "Cargo.toml").read_text() == expected
    assert outcome.edit is not None and outcome.edit.backup.read_text() == SEED_TOML
    assert '-default = ["advanced_fuel_metering", "metrics"]' in outcome.edit.diff
    assert any('-> ["metrics"]' in text for _, text in ctx.lines)


async def test_removing_the_last_entry_gives_an_empty_list(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, SEED_TOML.replace(', "metrics"]', "]"))
    outcome = await CargoFeaturesRunner().run(_step(remove=("advanced_fuel_metering",)), ctx)
    assert outcome.status is StepStatus.PASSED
    assert "default = []  # see RUNBOOK.md\n" in (tmp_path / "Cargo.toml").read_text()


async def test_already_absent_passes_without_writing(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path, SEED_TOML.replace('"advanced_fuel_metering", ', ""))
    before = (tmp_path / "Cargo.toml").stat().st_mtime_ns
    outcome = await CargoFeaturesRunner().run(_step(remove=("advanced_fuel_metering",)), ctx)
    assert outcome.status is StepStatus.PASSED and outcome.edit is None
    assert outcome.message.startswith("already")
    assert 'advanced_fuel_metering is not in default features (default = ["metrics"])' in outcome.message
    assert (tmp_path / "Cargo.toml").stat().st_mtime_ns == before
    assert not (tmp_path / "backups").exists()


async def test_add_and_set(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    runner = CargoFeaturesRunner()
    assert (await runner.run(_step(add=("tracing",)), ctx)).status is StepStatus.PASSED
    assert _default(tmp_path / "Cargo.toml") == ["advanced_fuel_metering", "metrics", "tracing"]
    assert (await runner.run(_step(set=()), ctx)).status is StepStatus.PASSED
    assert _default(tmp_path / "Cargo.toml") == []
    assert (await runner.run(_step(set=("metrics",)), ctx)).status is StepStatus.PASSED
    assert _default(tmp_path / "Cargo.toml") == ["metrics"]


def test_plan_edit_does_not_write_and_undo_restores(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    edit = CargoFeaturesRunner().plan_edit(_step(remove=("metrics",)), ctx)
    assert edit is not None
    assert (tmp_path / "Cargo.toml").read_text() == SEED_TOML
    applied = edits.apply(edit, ctx.backup_dir)
    assert _default(tmp_path / "Cargo.toml") == ["advanced_fuel_metering"]
    edits.undo(applied)
    assert (tmp_path / "Cargo.toml").read_text() == SEED_TOML


@pytest.mark.parametrize(
    ("text", "spec", "message"),
    [
        (None, {"remove": ("x",)}, "Cargo.toml: no such file"),
        ("[features\ndefault = []\n", {"remove": ("x",)}, "Cargo.toml:1:"),
        ('[package]\nname = "x"\n', {"remove": ("x",)}, "has no [features] table"),
        ("[features]\na = []\n", {"remove": ("a",)}, "[features] has no default key (features: a)"),
        (
            '[features]\ndefault = ["x"]\nx = []\n',
            {"remove": ("advanced_fuel_metering",)},
            'advanced_fuel_metering is not in default features (default = ["x"])',
        ),
        ("[features]\ndefault = []\nx = []\n", {"add": ("y",)}, "cannot add y to default features"),
        ("[features]\ndefault = []\nx = []\n", {"set": ("x", "z")}, "cannot add z"),
    ],
)
async def test_clear_errors(
    tmp_path: Path, text: str | None, spec: dict[str, tuple[str, ...]], message: str
) -> None:
    if text is not None:
        (tmp_path / "Cargo.toml").write_text(text)
    ctx = Ctx(workdir=tmp_path, backup_dir=tmp_path / "b")
    outcome = await CargoFeaturesRunner().run(_step(**spec), ctx)
    assert outcome.status is StepStatus.FAILED
    assert message in outcome.message
    with pytest.raises(EditError):
        CargoFeaturesRunner().plan_edit(_step(**spec), ctx)
    if text is not None:
        assert (tmp_path / "Cargo.toml").read_text() == text


async def test_dependency_features_and_optional_deps_count_as_declared(tmp_path: Path) -> None:
    text = '[features]\ndefault = []\n\n[dependencies]\nserde = { version = "1", optional = true }\n'
    ctx = _ctx(tmp_path, text)
    outcome = await CargoFeaturesRunner().run(_step(add=("dep:serde", "serde/derive")), ctx)
    assert outcome.status is StepStatus.PASSED, outcome.message
    assert _default(tmp_path / "Cargo.toml") == ["dep:serde", "serde/derive"]


async def test_cargo_still_builds_after_the_edit(tmp_path: Path) -> None:
    """The edited manifest is one cargo accepts (a real, dependency-free crate)."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "lib.rs").write_text(
        '#[cfg(feature = "advanced_fuel_metering")]\npub fn afm() {}\npub fn base() {}\n'
    )
    ctx = _ctx(
        tmp_path,
        SEED_TOML.replace('\n[dependencies]\ntracing = { version = "0.1", optional = true }\n', "").replace(
            'tracing = ["dep:tracing"]\n', ""
        ),
    )
    outcome = await CargoFeaturesRunner().run(_step(remove=("advanced_fuel_metering",)), ctx)
    assert outcome.status is StepStatus.PASSED, outcome.message
    try:
        meta = subprocess.run(
            ["cargo", "metadata", "--offline", "--no-deps", "--format-version", "1"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except FileNotFoundError:
        pytest.skip("cargo is not installed")
    assert meta.returncode == 0, meta.stderr
    assert '"default":["metrics"]' in meta.stdout


# --- property: for any Cargo.toml the editor accepts, only the default array changes ------------

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)
COMMENT = st.from_regex(r"#[ a-zA-Z0-9_=\[\]\"',.-]{0,20}", fullmatch=True)
SPACE = st.sampled_from(["", " ", "  ", "\t"])


@st.composite
def arrays(draw: st.DrawFn, values: list[str]) -> str:
    """A TOML array of ``values`` in a random but valid layout."""
    quote = [draw(st.sampled_from(['"', "'"])) for _ in values]
    items = [f"{q}{v}{q}" for q, v in zip(quote, values, strict=True)]
    if not items or draw(st.booleans()):
        inner = ",".join(f"{draw(SPACE)}{i}{draw(SPACE)}" for i in items)
        return f"[{inner}]"
    lines = [f"    {i},{' ' + draw(COMMENT) if draw(st.booleans()) else ''}" for i in items]
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), "    " + draw(COMMENT))
    return "[\n" + "\n".join(lines) + "\n]"


@st.composite
def cargo_files(draw: st.DrawFn) -> tuple[str, str, str, list[str], list[str]]:
    """(prefix, default array text, suffix, default values, declared features)."""
    declared = draw(st.lists(NAMES.filter(lambda n: n != "default"), min_size=1, max_size=6, unique=True))
    default = draw(st.lists(st.sampled_from(declared), unique=True))
    head: list[str] = []
    if draw(st.booleans()):
        head.append(draw(COMMENT))
    head += ["[package]", f'name = "{draw(NAMES)}"{draw(SPACE)}', 'version = "0.1.0"', ""]
    head.append("[features]")
    others = [f"{n}{draw(SPACE)}={draw(SPACE)}{draw(arrays([]))}" for n in declared]
    split = draw(st.integers(0, len(others)))
    head += others[:split]
    if draw(st.booleans()):
        head.append(draw(COMMENT))
    prefix = "\n".join(head) + f"\ndefault{draw(SPACE)}={draw(SPACE)}"
    trailing = f"{draw(SPACE)}{draw(COMMENT)}" if draw(st.booleans()) else ""
    tail = [trailing, *others[split:], ""]
    if draw(st.booleans()):
        tail += ["[dependencies]", f"# {draw(NAMES)}", "", "[profile.release]", "lto = true", ""]
    suffix = "\n".join(tail)
    return prefix, draw(arrays(default)), suffix, default, declared


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=cargo_files(), ops=st.data())
def test_only_the_default_array_changes(
    tmp_path: Path, data: tuple[str, str, str, list[str], list[str]], ops: st.DataObject
) -> None:
    prefix, array, suffix, default, declared = data
    path = tmp_path / "Cargo.toml"
    path.write_text(prefix + array + suffix)
    mode = ops.draw(st.sampled_from(["remove", "add", "set"]))
    if mode == "remove":
        spec = CargoFeaturesSpec(remove=tuple(ops.draw(st.lists(st.sampled_from(declared), unique=True))))
        expected = [v for v in default if v not in spec.remove]
    elif mode == "add":
        spec = CargoFeaturesSpec(add=tuple(ops.draw(st.lists(st.sampled_from(declared), unique=True))))
        expected = default + [v for v in spec.add if v not in default]
    else:
        spec = CargoFeaturesSpec(set=tuple(ops.draw(st.lists(st.sampled_from(declared), unique=True))))
        expected = list(spec.set or ())
    edit, _ = plan_cargo_edit(path, spec)
    if edit is None:
        assert sorted(expected) == sorted(default)
        return
    after = edit.after.decode()
    assert after.startswith(prefix) and after.endswith(suffix), edit.diff
    new_array = after[len(prefix) : len(after) - len(suffix)]
    parsed = tomlkit.parse(f"x = {new_array}")["x"]
    assert sorted(str(v) for v in parsed) == sorted(expected)
    assert sorted(_default_from(after)) == sorted(expected)


def _default_from(text: str) -> list[str]:
    return [str(v) for v in tomlkit.parse(text)["features"]["default"]]


async def test_run_applies_the_confirmed_plan_and_refuses_it_when_the_file_changed(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    runner = CargoFeaturesRunner()
    step = _step(remove=("advanced_fuel_metering",))
    assert runner.plan_edit(step, ctx) is not None  # the diff the engineer confirms
    changed = SEED_TOML.replace('version = "0.3.1"', 'version = "0.3.2"')
    (tmp_path / "Cargo.toml").write_text(changed)  # someone edits the file meanwhile
    outcome = await runner.run(step, ctx)
    assert (
        outcome.status is StepStatus.FAILED and "changed on disk since the diff was shown" in outcome.message
    )
    assert (tmp_path / "Cargo.toml").read_text() == changed
    # Run again: a fresh plan of the new contents.
    outcome = await runner.run(step, ctx)
    assert outcome.status is StepStatus.PASSED
    assert (tmp_path / "Cargo.toml").read_text() == changed.replace('"advanced_fuel_metering", ', "")
