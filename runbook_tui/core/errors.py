"""Errors that reach a user: values with a place and a fix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Location:
    """Where an element of a runbook came from (1-based line and column)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.file
        if not self.column:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


NOWHERE = Location("<unknown>")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input, printed as ``file:line:col: message``."""

    location: Location
    message: str
    severity: str = "error"  # "error" or "warning"

    def __str__(self) -> str:
        prefix = "" if self.severity == "error" else f"{self.severity}: "
        return f"{self.location}: {prefix}{self.message}"


class RunbookTuiError(Exception):
    """Base for errors that are shown to the user without a traceback."""

    exit_code: int = 2


class RunbookLoadError(RunbookTuiError):
    """A runbook could not be read or did not validate."""

    def __init__(self, problems: list[Problem], *, unreadable: bool = False) -> None:
        self.problems = problems
        self.unreadable = unreadable
        self.exit_code = 2 if unreadable else 1
        super().__init__("\n".join(str(p) for p in problems))


class UsageError(RunbookTuiError):
    """The command line or an intent was malformed."""

    exit_code = 2


class ParameterError(RunbookTuiError):
    """A parameter value was missing or did not satisfy its rules."""

    exit_code = 2

    def __init__(self, name: str, message: str) -> None:
        self.name = name
        super().__init__(f"parameter {name!r}: {message}")


class EditError(RunbookTuiError):
    """A file edit could not be planned, applied or undone; names the file and the fix."""

    exit_code = 1

    def __init__(self, path: Path | str, message: str, fix: str = "") -> None:
        self.path = Path(path)
        self.fix = fix
        text = f"{path}: {message}"
        if fix:
            text += f"; {fix}"
        super().__init__(text)
