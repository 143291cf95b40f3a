"""The session journal: writing it, reading it back, and folding it into a session's state.

- ``codec``: an event to its line of bytes and back; the one rule for a torn last line;
- ``writer``: :class:`Journal`, appending and fsyncing (the hot path of log streaming);
- ``reader``: a journal read back as events (``load``, ``fold_file``, ``read_ends``,
  ``JournalTail`` for ``follow``), with its errors;
- ``records``: a journal read as dicts, for the report, the session list and ``verify``;
- ``fold``: events folded into a ``SessionState`` (no secret values in it);
- ``chain``: the keyed hash that seals every line.

The names below are the package's public face, so ``from runbook_tui.core.journal import
Journal, load, fold_file, JournalError`` works wherever they live inside. They are
imported on first use: the session list reads journals at start-up (``records``) and
must not build the event classes that the writer and the reader need.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from .codec import APP, JournalError, fast_iso_utc
    from .reader import (
        DamagedJournal,
        DamagedLine,
        FoldedJournal,
        JournalTail,
        LoadedJournal,
        fold_file,
        load,
        read_ends,
    )
    from .writer import (
        OUTPUT_BUFFER_BYTES,
        OUTPUT_FLUSH_SECONDS,
        SUFFIX,
        Journal,
        JournalWriteError,
        new_session_id,
        write_fix,
    )

_HOME = {
    "APP": "codec",
    "JournalError": "codec",
    "fast_iso_utc": "codec",
    "DamagedJournal": "reader",
    "DamagedLine": "reader",
    "FoldedJournal": "reader",
    "JournalTail": "reader",
    "LoadedJournal": "reader",
    "fold_file": "reader",
    "load": "reader",
    "read_ends": "reader",
    "OUTPUT_BUFFER_BYTES": "writer",
    "OUTPUT_FLUSH_SECONDS": "writer",
    "SUFFIX": "writer",
    "Journal": "writer",
    "JournalWriteError": "writer",
    "new_session_id": "writer",
    "write_fix": "writer",
}

__all__ = [
    "APP",
    "OUTPUT_BUFFER_BYTES",
    "OUTPUT_FLUSH_SECONDS",
    "SUFFIX",
    "DamagedJournal",
    "DamagedLine",
    "FoldedJournal",
    "Journal",
    "JournalError",
    "JournalTail",
    "JournalWriteError",
    "LoadedJournal",
    "fast_iso_utc",
    "fold_file",
    "load",
    "new_session_id",
    "read_ends",
    "write_fix",
]


__getattr__ = lazy_getattr(__name__, _HOME, globals())
