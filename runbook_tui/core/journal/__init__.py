"""The session journal: writing it, reading it back, and folding it into a session's state.

``codec`` turns events into lines and back, ``writer`` appends them (``Journal``),
``reader`` streams a journal back (events, records, its ends, a live tail), ``fold``
folds events into a ``SessionState`` and ``chain`` seals every line with a keyed hash.
The names below are the package's public face: ``from runbook_tui.core.journal import
Journal, load, fold_file, JournalError`` keeps working wherever the code lives inside.
"""

from .writer import (
    APP,
    OUTPUT_BUFFER_BYTES,
    OUTPUT_FLUSH_SECONDS,
    SUFFIX,
    DamagedJournal,
    DamagedLine,
    FoldedJournal,
    Journal,
    JournalError,
    JournalWriteError,
    LoadedJournal,
    fast_iso_utc,
    fold_file,
    load,
    new_session_id,
    write_fix,
)

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
    "JournalWriteError",
    "LoadedJournal",
    "fast_iso_utc",
    "fold_file",
    "load",
    "new_session_id",
    "write_fix",
]
