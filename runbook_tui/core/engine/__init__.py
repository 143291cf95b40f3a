"""The engine: runs a procedure step by step, emits events, and takes the engineer's intents.

The public names live here, so callers write ``from runbook_tui.core.engine import Session``.
"""

from .session import (
    EditReconcileError,
    Session,
    check_params,
    default_operator,
    display_step,
    file_sha256,
    fill_step,
)

__all__ = [
    "EditReconcileError",
    "Session",
    "check_params",
    "default_operator",
    "display_step",
    "file_sha256",
    "fill_step",
]
