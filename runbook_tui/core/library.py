"""Finding runbooks: `--runbooks DIR`, ``RUNBOOK_TUI_RUNBOOKS``, the config file, the bundled ones.

The app calls :func:`find_runbooks` at start-up, so it stays cheap: one walk per
folder, one load per file, and loads are remembered for as long as a file's size
and modification time do not change. A broken runbook is listed with its
problems; it never hides the others.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import locations
from .errors import Location, Problem, RunbookLoadError, RunbookTuiError
from .loader import LoadResult, did_you_mean, load_runbook, try_load
from .model import Runbook

RUNBOOK_SUFFIXES = (".yaml", ".yml", ".md")
ENV_VAR = "RUNBOOK_TUI_RUNBOOKS"

# Where a runbook was found; also the `source` of `list --json`.
SOURCE_OPTION, SOURCE_ENV, SOURCE_CONFIG, SOURCE_BUNDLED = "option", "env", "config", "bundled"


@dataclass(frozen=True)
class RunbookEntry:
    """One runbook file in the library: loaded, or with the problems that stop it loading."""

    id: str
    title: str
    path: Path
    source: str
    runbook: Runbook | None
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        """It loaded and has no errors, so it can be opened."""
        return self.runbook is not None and not any(p.severity == "error" for p in self.problems)


def is_drill_definition(path: Path) -> bool:
    """Drill definitions (``*.drill.yaml``, anything under ``drills/``) sit beside runbooks."""
    return path.name.endswith((".drill.yaml", ".drill.yml")) or "drills" in path.parts[:-1]


def runbook_files(folder: Path) -> list[Path]:
    """The runbook files under ``folder``, recursively, sorted; hidden folders and drills skipped."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "drills")
        for name in sorted(files):
            path = Path(root, name)
            if _is_runbook_name(name) and not is_drill_definition(path.relative_to(folder)):
                found.append(path)
    return found


def _is_runbook_name(name: str) -> bool:
    if name.startswith(".") or not name.lower().endswith(RUNBOOK_SUFFIXES):
        return False
    # A folder's README is about the runbooks, not one of them.
    return not name.lower().startswith(("readme", "changelog", "contributing"))


def library_dirs(extra_dirs: Sequence[Path] = ()) -> list[tuple[Path, str]]:
    """Folders to search, first wins on an id clash: options, environment, config, bundled."""
    from ..config import load_config  # the config module imports this package's loader

    dirs: list[tuple[Path, str]] = []
    for folder in extra_dirs:
        if not folder.exists():
            raise RunbookTuiError(f"--runbooks {folder}: no such folder; check the path")
        dirs.append((folder, SOURCE_OPTION))
    for entry in os.environ.get(ENV_VAR, "").split(os.pathsep):
        if entry.strip():
            dirs.append((Path(entry.strip()).expanduser(), SOURCE_ENV))
    dirs.extend((folder, SOURCE_CONFIG) for folder in load_config().runbook_dirs)
    dirs.append((locations.bundled_runbooks_dir(), SOURCE_BUNDLED))
    return _dedupe(dirs)


def _dedupe(dirs: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    seen: set[Path] = set()
    out: list[tuple[Path, str]] = []
    for folder, source in dirs:
        key = folder.resolve()
        if key not in seen:
            seen.add(key)
            out.append((folder, source))
    return out


def find_runbooks(extra_dirs: Sequence[Path] = ()) -> list[RunbookEntry]:
    """Every runbook in the library, in search order; broken ones carry their problems."""
    entries: list[RunbookEntry] = []
    owners: dict[str, Path] = {}
    seen_files: set[Path] = set()
    for path, source in _candidate_files(extra_dirs):
        real = path.resolve()
        if real in seen_files:
            continue
        seen_files.add(real)
        entry = _entry(path, source, _cached_load(path))
        if entry.id in owners:
            entry = _shadowed(entry, owners[entry.id])
        else:
            owners[entry.id] = path
        entries.append(entry)
    return entries


def _candidate_files(extra_dirs: Sequence[Path]) -> Iterator[tuple[Path, str]]:
    for folder, source in library_dirs(extra_dirs):
        if folder.is_file():
            yield folder, source
        elif folder.is_dir():
            for path in runbook_files(folder):
                yield path, source
        # A configured folder that does not exist (yet) adds nothing; --runbooks is checked above.


def _shadowed(entry: RunbookEntry, winner: Path) -> RunbookEntry:
    problem = Problem(
        Location(str(entry.path)),
        f"id {entry.id!r} is also used by {winner}, which comes first; this one is hidden from 'show'",
        severity="warning",
    )
    return RunbookEntry(
        entry.id, entry.title, entry.path, entry.source, entry.runbook, (*entry.problems, problem)
    )


def _entry(path: Path, source: str, result: LoadResult) -> RunbookEntry:
    if result.runbook is not None:
        rb = result.runbook
        return RunbookEntry(rb.id, rb.title, path, source, rb, result.problems)
    runbook_id, title = _guess_id_title(path)
    return RunbookEntry(runbook_id, title, path, source, None, result.problems)


_TOP_ID = re.compile(r"^id:\s*['\"]?([^'\"#\n]+?)['\"]?\s*(?:#.*)?$", re.M)
_TOP_TITLE = re.compile(r"^title:\s*['\"]?([^'\"\n]+?)['\"]?\s*$", re.M)


def _guess_id_title(path: Path) -> tuple[str, str]:
    """For a runbook that does not load: its id and title as written, else the file name."""
    try:
        head = path.read_bytes()[:16384].decode("utf-8", "replace")
    except OSError:
        head = ""
    id_match, title_match = _TOP_ID.search(head), _TOP_TITLE.search(head)
    runbook_id = id_match.group(1).strip() if id_match else path.stem
    title = title_match.group(1).strip() if title_match else path.name
    return runbook_id, title


# Loads are remembered per file while its size and mtime stay the same; reloading the
# library (ctrl+r in the app) then only reads what changed.
_CACHE: dict[Path, tuple[tuple[int, int], LoadResult]] = {}


def _cached_load(path: Path) -> LoadResult:
    try:
        stat = path.stat()
    except OSError:
        return try_load(path)
    key = (stat.st_size, stat.st_mtime_ns)
    cached = _CACHE.get(path)
    if cached is not None and cached[0] == key:
        return cached[1]
    result = try_load(path)
    _CACHE[path] = (key, result)
    return result


def looks_like_path(ref: str) -> bool:
    """``ref`` names a file rather than an id: it has a separator or a runbook suffix."""
    return "/" in ref or os.sep in ref or ref.lower().endswith(RUNBOOK_SUFFIXES)


def resolve_runbook(ref: str, extra_dirs: Sequence[Path] = ()) -> Runbook:
    """The runbook named by ``ref``: a path to a .yaml/.yml/.md file, or the id of one in the library."""
    if looks_like_path(ref) or Path(ref).is_file():
        return load_runbook(Path(ref))
    entries = find_runbooks(extra_dirs)
    for entry in entries:
        if entry.id == ref:
            if entry.runbook is None:
                raise RunbookLoadError(list(entry.problems))
            return entry.runbook
    known = sorted({e.id for e in entries})
    hint = did_you_mean(ref, known)
    listed = ", ".join(known) if known else "none (add a folder with --runbooks DIR)"
    message = (
        f"no such runbook in the library{hint}; known ids: {listed}; or give a path to a .yaml or .md file"
    )
    raise RunbookLoadError([Problem(Location(ref), message)], unreadable=True)
