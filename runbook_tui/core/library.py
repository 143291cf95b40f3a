"""Finding runbooks: `--runbooks DIR`, ``RUNBOOK_TUI_RUNBOOKS``, the config file, the bundled ones.

The app calls :func:`find_runbooks` at start-up, so it stays cheap: one walk per
folder and one small index file (:mod:`.library_cache`) that remembers what the
list shows of each runbook while its size and modification time do not change.
A runbook is loaded in full only when it is opened (``entry.runbook``). A broken
runbook is listed with its problems; it never hides the others.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .. import locations
from .errors import Location, Problem, RunbookLoadError, RunbookTuiError
from .library_cache import FileKey, FileSummary, LibraryIndex, RunbookSummary, file_key, summarize

if TYPE_CHECKING:
    from .loader import LoadResult
    from .model import Runbook

RUNBOOK_SUFFIXES = (".yaml", ".yml", ".md")
DRILL_SUFFIXES = (".drill.yaml", ".drill.yml")
ENV_VAR = "RUNBOOK_TUI_RUNBOOKS"

# Where a runbook was found; also the `source` of `list --json`.
SOURCE_OPTION, SOURCE_ENV, SOURCE_CONFIG, SOURCE_BUNDLED = "option", "env", "config", "bundled"


@dataclass(frozen=True)
class RunbookEntry:
    """One runbook file in the library: its summary, or the problems that stop it loading."""

    id: str
    title: str
    path: Path
    source: str
    summary: RunbookSummary | None  # None: it does not load
    problems: tuple[Problem, ...] = ()
    _full: _FullLoad = field(default_factory=lambda: _FullLoad(), repr=False, compare=False)

    @property
    def ok(self) -> bool:
        """It loaded and has no errors, so it can be opened."""
        return self.summary is not None and not any(p.severity == "error" for p in self.problems)

    @property
    def runbook(self) -> Runbook | None:
        """The whole runbook, loaded on first use; None when it does not load (now)."""
        if self.summary is None:
            return None
        return self._full.get(self.path).runbook

    @property
    def load_problems(self) -> tuple[Problem, ...]:
        """The problems of the full load once done (the file may have changed since it was listed)."""
        result = self._full.result
        return self.problems if result is None else tuple(result.problems)


# One lock for every entry's full load: loads are rare (a runbook being opened), and a lock
# per entry cost more than listing the entry from the index.
_FULL_LOAD = threading.Lock()


class _FullLoad:
    """The one full load of an entry's file, done at most once even when two threads ask."""

    def __init__(self) -> None:
        self.result: LoadResult | None = None

    def get(self, path: Path) -> LoadResult:
        with _FULL_LOAD:
            if self.result is None:
                self.result = _cached_load(path)
            return self.result


def is_drill_definition(path: Path) -> bool:
    """Drill definitions (``*.drill.yaml``, anything under ``drills/``) sit beside runbooks."""
    return path.name.endswith(DRILL_SUFFIXES) or "drills" in path.parts[:-1]


def runbook_files(folder: Path) -> list[Path]:
    """The runbook files under ``folder``, recursively, sorted; hidden folders and drills skipped."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "drills")  # drills/ pruned here
        found += [Path(root, name) for name in sorted(files) if _is_runbook_name(name)]
    return found


def _is_runbook_name(name: str) -> bool:
    if name.startswith(".") or not name.lower().endswith(RUNBOOK_SUFFIXES):
        return False
    if name.endswith(DRILL_SUFFIXES):  # the drills/ half of is_drill_definition is pruned in the walk
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
    return list(iter_runbooks(extra_dirs))


def iter_runbooks(
    extra_dirs: Sequence[Path] = (), index: LibraryIndex | None = None
) -> Iterator[RunbookEntry]:
    """:func:`find_runbooks` one entry at a time, as each file is read; saves the index at the end."""
    index = index if index is not None else LibraryIndex()
    listing = _Listing(index)
    for found in _library_files(extra_dirs, index):
        yield listing.add(found)
    index.save()


@dataclass(frozen=True)
class _Found:
    """A runbook file in search order, with its summary when the index has it."""

    path: Path
    source: str
    key: FileKey | None
    cached: FileSummary | None


def _library_files(extra_dirs: Sequence[Path], index: LibraryIndex) -> Iterator[_Found]:
    """Every runbook file once, looked up in the index (cheap: a stat and a dict lookup each)."""
    seen = _SeenFiles()
    for path, source in _candidate_files(extra_dirs):
        key = file_key(path)
        if seen.first_time(path, key):
            yield _Found(path, source, key, index.get(path, key) if key is not None else None)


class _Listing:
    """Turns found files into entries: reads those the index lacks, marks ids used twice."""

    def __init__(self, index: LibraryIndex) -> None:
        self._index = index
        self._owners: dict[str, Path] = {}

    def add(self, found: _Found) -> RunbookEntry:
        summary = found.cached or _read_summary(found.path, found.key, self._index)
        entry = _entry(found.path, found.source, summary)
        owner = self._owners.setdefault(entry.id, found.path)
        return entry if owner == found.path else _shadowed(entry, owner)


class _SeenFiles:
    """Files already listed, one real file once however it is reached (symlinks, repeated folders).

    Compared by inode, from the stat the index needs anyway; real paths (a walk up the
    path, ~50 us a file) are only worked out when two paths share an inode.
    """

    def __init__(self) -> None:
        self._by_inode: dict[tuple[int, int], list[Path]] = {}
        self._real: set[str] = set()  # of files that could not be stat'ed

    def first_time(self, path: Path, key: FileKey | None) -> bool:
        if key is None:
            real = os.path.realpath(path)
            if real in self._real:
                return False
            self._real.add(real)
            return True
        same_inode = self._by_inode.setdefault(key.inode, [])
        same_inode.append(path)
        if len(same_inode) == 1:
            return True
        real = os.path.realpath(path)
        return all(os.path.realpath(other) != real for other in same_inode[:-1])


def indexed_runbooks(extra_dirs: Sequence[Path] = (), *, budget: float = 0.05) -> list[RunbookEntry] | None:
    """The whole library, if every file is in the index and listing it takes under ``budget`` seconds.

    None otherwise (a file is new or changed, or the disk is slow): then
    :func:`runbook_batches` reads it. The app lists a warm library this way before its
    first frame, so the list is there from the start instead of one relayout later.
    """
    index = LibraryIndex()
    listing = _Listing(index)
    deadline = time.monotonic() + budget
    entries: list[RunbookEntry] = []
    for found in _library_files(extra_dirs, index):
        if found.cached is None or time.monotonic() > deadline:
            return None
        entries.append(listing.add(found))
    return entries


def runbook_batches(
    extra_dirs: Sequence[Path] = (),
    *,
    first: int = 20,
    every: float = 0.1,
    longest: float = 1.0,
) -> Iterator[list[RunbookEntry]]:
    """The library in batches: the first ``first`` entries, then what loaded in ``every`` seconds, and so on.

    Every batch costs the UI a relayout of the list, so batches are cut only where
    files are being read. An entry found in the index costs microseconds: a warm
    index sends the whole library as one batch (unless reading it takes ``longest``).
    The wait doubles after each batch (up to ``longest``), so a slow (first-ever) load
    of hundreds sends about ten batches, not fifty.
    """
    index = LibraryIndex()
    listing = _Listing(index)
    batch: list[RunbookEntry] = []
    sent, wait, since = 0, every, time.monotonic()
    for found in _library_files(extra_dirs, index):
        batch.append(listing.add(found))
        elapsed = time.monotonic() - since
        due = len(batch) >= first if not sent else elapsed >= wait
        if (due and found.cached is None) or elapsed >= longest:
            yield batch
            if sent:
                wait = min(wait * 2, longest)
            sent, batch, since = sent + len(batch), [], time.monotonic()
    index.save()
    if batch:
        yield batch


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
        entry.id,
        entry.title,
        entry.path,
        entry.source,
        entry.summary,
        (*entry.problems, problem),
        entry._full,
    )


def _entry(path: Path, source: str, found: FileSummary) -> RunbookEntry:
    return RunbookEntry(found.id, found.title, path, source, found.summary, found.problems)


def _read_summary(path: Path, key: FileKey | None, index: LibraryIndex) -> FileSummary:
    """What the list shows of ``path``, by loading it; recorded in the index for the next start."""
    result = _cached_load(path)
    runbook_id, title = _guess_id_title(path) if result.runbook is None else ("", "")
    found = summarize(result, runbook_id, title)
    if key is not None and not result.unreadable:
        index.put(path, key, found)
    return found


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
    from .loader import try_load  # yaml and the model: only when a file is really read

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
    from .loader import did_you_mean, load_runbook

    if looks_like_path(ref) or Path(ref).is_file():
        return load_runbook(Path(ref))
    entries = find_runbooks(extra_dirs)
    for entry in entries:
        if entry.id == ref:
            runbook = entry.runbook
            if runbook is None:
                raise RunbookLoadError(list(entry.load_problems))
            return runbook
    known = sorted({e.id for e in entries})
    hint = did_you_mean(ref, known)
    listed = ", ".join(known) if known else "none (add a folder with --runbooks DIR)"
    message = (
        f"no such runbook in the library{hint}; known ids: {listed}; or give a path to a .yaml or .md file"
    )
    raise RunbookLoadError([Problem(Location(ref), message)], unreadable=True)
