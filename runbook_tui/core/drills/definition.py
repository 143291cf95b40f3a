"""Drill definitions: ``runbooks/drills/<runbook id>/drill.yaml`` read into frozen values.

A drill lives beside the runbook it trains, so a team that writes a runbook can
write its sandbox too. The format is documented in ``docs/drills.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from ...locations import bundled_runbooks_dir
from ..durations import DurationError, parse_duration
from ..model import Runbook
from .errors import DrillError
from .limits import DrillLimits

DRILL_FORMAT = 1
DRILL_FILE = "drill.yaml"
REQUIREMENTS = frozenset({"docker", "cargo", "git", "gpg", "sqlite3", "python3", "perl", "curl"})

_TOP_KEYS = frozenset(
    {
        "drill",
        "runbook",
        "title",
        "description",
        "requires",
        "files",
        "bin",
        "env",
        "params",
        "ports",
        "setup",
        "teardown",
        "timeout",
        "watch_limit",
        "retry_limit",
        "faults",
        "simulated",
    }
)
_FAULT_KEYS = frozenset({"name", "summary", "procedure", "fails_step", "expect", "params", "env"})
_SIMULATED_KEYS = frozenset({"notice", "bin", "setup", "env"})


def _frozen(value: Mapping[str, str] | None = None) -> Mapping[str, str]:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True, slots=True)
class Fault:
    """Something that goes wrong on purpose, and where the engineer should meet it."""

    name: str
    summary: str
    procedure: str | None = None  # the procedure it is meant for
    fails_step: str | None = None  # the step that must fail when it is injected
    expect: str = ""  # text the failing step prints (what tells the engineer what to do)
    params: Mapping[str, str] = field(default_factory=_frozen)  # parameter values it needs
    env: Mapping[str, str] = field(default_factory=_frozen)


@dataclass(frozen=True, slots=True)
class Simulated:
    """The stand-in stack used when a required Docker Engine is not there."""

    notice: str
    bin: str | None = None
    setup: str | None = None
    env: Mapping[str, str] = field(default_factory=_frozen)


@dataclass(frozen=True, slots=True)
class DrillDefinition:
    """One drill: what to copy, what to run to build and tear down, and its faults."""

    runbook: str
    path: Path  # the drill.yaml
    title: str = ""
    description: str = ""
    requires: tuple[str, ...] = ()
    files: str | None = None  # None: files/ beside drill.yaml when it exists
    bin: str | None = None  # None: bin/ beside drill.yaml when it exists
    env: Mapping[str, str] = field(default_factory=_frozen)
    params: Mapping[str, str] = field(default_factory=_frozen)
    ports: tuple[int, ...] = ()
    setup: str | None = None
    teardown: str | None = None
    timeout: float = 120.0
    watch_limit: float | None = None  # drills (app and headless) cap watch steps to this many seconds
    retry_limit: float | None = None  # ... and an http step's retry_for to this many seconds
    faults: tuple[Fault, ...] = ()
    simulated: Simulated | None = None

    @property
    def limits(self) -> DrillLimits:
        """The caps a session in this drill runs with (app and headless alike)."""
        return DrillLimits(watch=self.watch_limit, retry=self.retry_limit)

    @property
    def folder(self) -> Path:
        return self.path.parent

    def fault(self, name: str) -> Fault | None:
        return next((f for f in self.faults if f.name == name), None)


def drill_path(runbook: Runbook) -> Path | None:
    """Where the runbook's drill.yaml is: beside the runbook file first, then the bundled drills."""
    candidates: list[Path] = []
    if runbook.path:
        candidates.append(Path(runbook.path).resolve().parent / "drills" / runbook.id / DRILL_FILE)
    candidates.append(bundled_runbooks_dir() / "drills" / runbook.id / DRILL_FILE)
    return next((c for c in candidates if c.is_file()), None)


def find_drill(runbook: Runbook) -> DrillDefinition:
    """The runbook's drill, or a :class:`DrillError` saying where one would go."""
    path = drill_path(runbook)
    if path is None:
        where = Path(runbook.path).resolve().parent if runbook.path else bundled_runbooks_dir()
        raise DrillError(
            f"runbook {runbook.id!r} has no drill: write one at "
            f"{where / 'drills' / runbook.id / DRILL_FILE} (see docs/drills.md)"
        )
    return load_drill(path)


def load_drill(path: Path) -> DrillDefinition:
    """Read and check one drill.yaml; every problem is a :class:`DrillError` naming the file."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DrillError(f"{path}: cannot read the drill ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise DrillError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
    if not isinstance(raw, dict):
        raise DrillError(f"{path}: a drill is a YAML mapping with at least 'drill: 1' and 'runbook:'")
    return _definition(path, raw)


def _definition(path: Path, raw: dict[str, Any]) -> DrillDefinition:
    _no_unknown(path, "the drill", raw, _TOP_KEYS)
    if raw.get("drill") != DRILL_FORMAT:
        raise DrillError(f"{path}: 'drill: {DRILL_FORMAT}' is required (the drill format version)")
    runbook = _text(path, raw, "runbook", required=True)
    requires = tuple(_texts(path, raw, "requires"))
    for item in requires:
        if item not in REQUIREMENTS:
            raise DrillError(f"{path}: requires: {item!r} is not one of {', '.join(sorted(REQUIREMENTS))}")
    faults = tuple(_fault(path, i, f) for i, f in enumerate(_list(path, raw, "faults")))
    names = [f.name for f in faults]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup or "random" in names:
        raise DrillError(f"{path}: fault name {dup or 'random'!r} is used twice or reserved; rename it")
    return DrillDefinition(
        runbook=runbook,
        path=path,
        title=_text(path, raw, "title"),
        description=_text(path, raw, "description"),
        requires=requires,
        files=_text(path, raw, "files") or None,
        bin=_text(path, raw, "bin") or None,
        env=_frozen(_strings(path, raw, "env")),
        params=_frozen(_strings(path, raw, "params")),
        ports=tuple(_port(path, p) for p in _list(path, raw, "ports")),
        setup=_text(path, raw, "setup") or None,
        teardown=_text(path, raw, "teardown") or None,
        timeout=_seconds(path, "timeout", raw.get("timeout", 120)),
        watch_limit=_limit(path, raw, "watch_limit"),
        retry_limit=_limit(path, raw, "retry_limit"),
        faults=faults,
        simulated=_simulated(path, raw.get("simulated")),
    )


def _fault(path: Path, index: int, raw: Any) -> Fault:
    where = f"faults[{index}]"
    if not isinstance(raw, dict):
        raise DrillError(f"{path}: {where} must be a mapping with at least name and summary")
    _no_unknown(path, where, raw, _FAULT_KEYS)
    name = _text(path, raw, "name", required=True, where=where)
    return Fault(
        name=name,
        summary=_text(path, raw, "summary", required=True, where=where),
        procedure=_text(path, raw, "procedure", where=where) or None,
        fails_step=_text(path, raw, "fails_step", where=where) or None,
        expect=_text(path, raw, "expect", where=where),
        params=_frozen(_strings(path, raw, "params", where=where)),
        env=_frozen(_strings(path, raw, "env", where=where)),
    )


def _simulated(path: Path, raw: Any) -> Simulated | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise DrillError(f"{path}: simulated must be a mapping (notice, bin, setup, env)")
    _no_unknown(path, "simulated", raw, _SIMULATED_KEYS)
    return Simulated(
        notice=_text(path, raw, "notice", required=True, where="simulated"),
        bin=_text(path, raw, "bin", where="simulated") or None,
        setup=_text(path, raw, "setup", where="simulated") or None,
        env=_frozen(_strings(path, raw, "env", where="simulated")),
    )


def _no_unknown(path: Path, where: str, raw: dict[str, Any], known: frozenset[str]) -> None:
    unknown = sorted(set(raw) - known)
    if unknown:
        raise DrillError(
            f"{path}: unknown key {unknown[0]!r} in {where}; known keys: {', '.join(sorted(known))}"
        )


def _text(
    path: Path, raw: dict[str, Any], key: str, *, required: bool = False, default: str = "", where: str = ""
) -> str:
    value = raw.get(key)
    place = f"{where}.{key}" if where else key
    if value is None:
        if required:
            raise DrillError(f"{path}: {place} is required")
        return default
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise DrillError(f"{path}: {place} must be text")
    return str(value).strip()


def _list(path: Path, raw: dict[str, Any], key: str) -> list[Any]:
    value = raw.get(key) or []
    if not isinstance(value, list):
        raise DrillError(f"{path}: {key} must be a list")
    return value


def _texts(path: Path, raw: dict[str, Any], key: str) -> list[str]:
    return [str(v) for v in _list(path, raw, key)]


def _strings(path: Path, raw: dict[str, Any], key: str, *, where: str = "") -> dict[str, str]:
    value = raw.get(key) or {}
    place = f"{where}.{key}" if where else key
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise DrillError(f"{path}: {place} must be a mapping of names to values")
    return {k: "" if v is None else str(v) for k, v in value.items()}


def _port(path: Path, value: Any) -> int:
    if not isinstance(value, int) or not 0 < value < 65536:
        raise DrillError(f"{path}: ports: {value!r} is not a TCP port number")
    return value


def _seconds(path: Path, key: str, value: Any) -> float:
    try:
        return parse_duration(value)
    except DurationError as exc:
        raise DrillError(f"{path}: {key}: {exc}") from exc


def _limit(path: Path, raw: dict[str, Any], key: str) -> float | None:
    """A cap in seconds (watch_limit, retry_limit); None when the drill does not set it."""
    value = raw.get(key)
    return None if value is None else _seconds(path, key, value)
