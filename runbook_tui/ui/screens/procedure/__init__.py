"""The run screen and its parts: one widget per module, each with its own ``.tcss``."""

from .lifecycle import LEFT_OPEN_WHY
from .output import LOG_MAX_LINES
from .screen import ProcedureScreen

__all__ = ["LEFT_OPEN_WHY", "LOG_MAX_LINES", "ProcedureScreen"]
