"""The engine: runs a procedure step by step, emits events, and takes the engineer's intents.

One concept per module (see docs/architecture.md, "The engine"):

- ``session.py``: :class:`Session`, the lifecycle and the intents callers use;
- ``emitter.py``: events to the journal, the fold and listeners; output; redaction;
- ``parameters.py``: parameter values and carried variables; rendering a step with them;
- ``executor.py``: running one step, its gate and its runner;
- ``record.py``: the record as evidence (notes, roles, handoffs, action items, the note inbox);
- ``clock.py``: the task that journals window warnings and breaches;
- ``windows.py``: when they fall due, a pure function (also the screen's clock, the drill score);
- ``resume.py``: continuing from a journal, reconciling planned edits.

The public names live here, so callers write ``from runbook_tui.core.engine import Session``.
They are imported on first use: the run screen's clock imports ``windows`` at start-up,
which must not build the model and the events (tests/integration/test_import_hygiene.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from .parameters import check_params, display_step, fill_step
    from .resume import EditReconcileError, file_sha256
    from .session import Session, default_operator

_HOME = {
    "EditReconcileError": "resume",
    "Session": "session",
    "check_params": "parameters",
    "default_operator": "session",
    "display_step": "parameters",
    "file_sha256": "resume",
    "fill_step": "parameters",
}

__all__ = [
    "EditReconcileError",
    "Session",
    "check_params",
    "default_operator",
    "display_step",
    "file_sha256",
    "fill_step",
]


__getattr__ = lazy_getattr(__name__, _HOME, globals())
