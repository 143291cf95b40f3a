"""Training drills: a runbook run against a local sandbox that behaves like production."""

from __future__ import annotations

from .definition import DrillDefinition, Fault, drill_path, find_drill, load_drill
from .errors import DrillError
from .limits import DrillLimits
from .sandbox import RANDOM, Sandbox, build_sandbox, list_faults
from .score import DrillScore, WindowResult, format_score, score

__all__ = [
    "RANDOM",
    "DrillDefinition",
    "DrillError",
    "DrillLimits",
    "DrillScore",
    "Fault",
    "Sandbox",
    "WindowResult",
    "build_sandbox",
    "drill_path",
    "find_drill",
    "format_score",
    "list_faults",
    "load_drill",
    "score",
]
