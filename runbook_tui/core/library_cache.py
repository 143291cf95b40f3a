"""The library index: what the library list shows of each runbook, kept on disk between runs.

Loading a runbook costs 15-25 ms (YAML parse and model build), so a library of a
few hundred took seconds before its list appeared. The list needs far less: ids,
titles, tags, procedure titles and windows, and the problems. This module keeps
exactly that in one JSON file under the user cache folder, one record per file,
valid while the file's size and mtime_ns, the app version and the loader's code
stay the same. It is a cache: a missing, unreadable, corrupt or old file is
ignored (and rewritten), and a folder that cannot be written is not an error.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import __version__, locations
from .durations import Window
from .errors import Location, Problem

if TYPE_CHECKING:
    from .loader import LoadResult
    from .model import Runbook

INDEX_NAME = "library-index.json"
FORMAT = 1  # bump when the record shape changes
RACY_NS = 2_000_000_000  # files modified this recently are not recorded (see LibraryIndex.put)


@dataclass(frozen=True)
class ProcedureSummary:
    """A procedure as the library list shows it."""

    id: str
    title: str
    window: Window | None = None

    @property
    def target_seconds(self) -> float | None:
        """The recovery window's target, like ``Procedure.target_seconds``."""
        return self.window.target_seconds if self.window else None


@dataclass(frozen=True)
class RunbookSummary:
    """A runbook as the library list shows it: enough to filter, count and describe it."""

    tags: tuple[str, ...] = ()
    severity: str = ""
    owner: str = ""
    procedures: tuple[ProcedureSummary, ...] = ()
    decision_rows: int = 0

    @classmethod
    def of(cls, runbook: Runbook) -> RunbookSummary:
        """The summary of a loaded runbook."""
        procedures = tuple(ProcedureSummary(p.id, p.title, p.window) for p in runbook.procedures)
        return cls(
            tuple(runbook.tags),
            runbook.severity,
            runbook.owner,
            procedures,
            len(runbook.decision_matrix.rows),
        )


@dataclass(frozen=True)
class FileSummary:
    """What one load of one file told the library; ``summary`` is None when it did not load."""

    id: str
    title: str
    summary: RunbookSummary | None
    problems: tuple[Problem, ...] = ()


def summarize(result: LoadResult, fallback_id: str, fallback_title: str) -> FileSummary:
    """The file summary of a load result (the fallbacks name a runbook that did not load)."""
    rb = result.runbook
    if rb is None:
        return FileSummary(fallback_id, fallback_title, None, tuple(result.problems))
    return FileSummary(rb.id, rb.title, RunbookSummary.of(rb), tuple(result.problems))


# --- the file on disk ---------------------------------------------------------


def code_stamp() -> int:
    """Newest mtime_ns of the loader's code, so an edited loader (same version) is not trusted.

    The step kinds count: each kind module holds its keys and reader, and adding one
    makes runbooks of that kind valid.
    """
    core = Path(__file__).resolve().parent
    newest = 0
    for folder in (core, core / "importer", core / "loader", core / "steps"):
        try:
            with os.scandir(folder) as found:
                for item in found:
                    if item.name.endswith(".py"):
                        newest = max(newest, item.stat().st_mtime_ns)
        except OSError:
            continue
    return newest


@dataclass(frozen=True)
class FileKey:
    """What a record is valid for: the file's size and mtime_ns (and its inode, to spot the same file)."""

    size: int
    mtime_ns: int
    inode: tuple[int, int]  # (st_dev, st_ino)


def file_key(path: Path) -> FileKey | None:
    """The key of the file at ``path`` now; None when it cannot be stat'ed."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return FileKey(stat.st_size, stat.st_mtime_ns, (stat.st_dev, stat.st_ino))


class LibraryIndex:
    """The on-disk index: look up a file's summary, record new ones, save if anything changed."""

    def __init__(self, folder: Path | None = None) -> None:
        self.file = (folder if folder is not None else locations.cache_dir()) / INDEX_NAME
        self._stamp = {"format": FORMAT, "version": __version__, "code": code_stamp()}
        self._records: dict[str, Any] = _read_records(self.file, self._stamp)
        self._seen: set[str] = set()
        self.dirty = False

    def get(self, path: Path, key: FileKey) -> FileSummary | None:
        """The summary recorded for ``path`` while it has ``key``, if any."""
        name = os.path.abspath(path)
        self._seen.add(name)
        record = self._records.get(name)
        if (
            not isinstance(record, dict)
            or record.get("as") != str(path)
            or record.get("key") != _key_out(key)
        ):
            return None
        try:
            return _decode(record)
        except (KeyError, TypeError, ValueError, IndexError):
            return None

    def put(self, path: Path, key: FileKey, summary: FileSummary) -> None:
        """Record ``summary`` for ``path`` at ``key`` (written by :meth:`save`)."""
        name = os.path.abspath(path)
        self._seen.add(name)
        if time.time_ns() - key.mtime_ns < RACY_NS:
            # Just written: a second write in the same timestamp tick with the same size
            # would look unchanged, so such a file is only trusted once it has settled.
            self._records.pop(name, None)
            return
        self._records[name] = {"as": str(path), "key": _key_out(key), **_encode(summary)}
        self.dirty = True

    def save(self) -> bool:
        """Write the index if it changed (atomically); False when it could not be written."""
        if not self.dirty:
            return True
        records = {name: rec for name, rec in self._records.items() if name in self._seen or _exists(name)}
        try:
            _write_atomic(self.file, {**self._stamp, "files": records})
        except OSError:
            return False  # a cache that cannot be written only costs the next start its speed
        self.dirty = False
        return True


def _key_out(key: FileKey) -> list[int]:
    return [key.size, key.mtime_ns]


def _exists(name: str) -> bool:
    return os.path.exists(name)


def _read_records(file: Path, stamp: Mapping[str, object]) -> dict[str, Any]:
    """The records of a readable index written by this version of the code; else none."""
    try:
        data = json.loads(file.read_bytes())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or any(data.get(k) != v for k, v in stamp.items()):
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


def _write_atomic(file: Path, data: object) -> None:
    """Write ``data`` as JSON to ``file`` via a temporary file and a rename, so readers see all or nothing."""
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, file)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# --- records --------------------------------------------------------------------


def _encode(summary: FileSummary) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": summary.id,
        "title": summary.title,
        "problems": [
            [p.location.file, p.location.line, p.location.column, p.message, p.severity]
            for p in summary.problems
        ],
    }
    rb = summary.summary
    if rb is not None:
        record["runbook"] = {
            "tags": list(rb.tags),
            "severity": rb.severity,
            "owner": rb.owner,
            "rows": rb.decision_rows,
            "procedures": [[p.id, p.title, _window_out(p.window)] for p in rb.procedures],
        }
    return record


def _window_out(window: Window | None) -> list[Any] | None:
    return None if window is None else [window.text, window.low, window.high]


def _decode(record: Mapping[str, Any]) -> FileSummary:
    problems = tuple(
        Problem(Location(_str(f), int(line), int(col)), _str(msg), _str(sev))
        for f, line, col, msg, sev in record["problems"]
    )
    rb = record.get("runbook")
    summary = None
    if rb is not None:
        summary = RunbookSummary(
            tuple(_str(t) for t in rb["tags"]),
            _str(rb["severity"]),
            _str(rb["owner"]),
            tuple(ProcedureSummary(_str(i), _str(t), _window_in(w)) for i, t, w in rb["procedures"]),
            int(rb["rows"]),
        )
    return FileSummary(_str(record["id"]), _str(record["title"]), summary, problems)


def _window_in(raw: Any) -> Window | None:
    if raw is None:
        return None
    text, low, high = raw
    return Window(_str(text), None if low is None else float(low), float(high))


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value
