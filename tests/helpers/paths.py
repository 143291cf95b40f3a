"""Where things are, independent of how deep a test module sits below tests/."""

from __future__ import annotations

from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = TESTS_DIR.parent  # this checkout, not whichever runbook_tui is installed
DATA_DIR = TESTS_DIR / "data"
