"""The one error a drill raises: it names the drill file, the place and the fix."""

from __future__ import annotations

from ..errors import RunbookTuiError


class DrillError(RunbookTuiError):
    """A drill could not be found, read, built or torn down; the message says what to do."""

    exit_code = 2
