"""The run screen and its parts: one widget per module, each with its own ``.tcss``."""

from .screen import LEFT_OPEN_WHY, LOG_MAX_LINES, ProcedureScreen

__all__ = ["LEFT_OPEN_WHY", "LOG_MAX_LINES", "ProcedureScreen"]
