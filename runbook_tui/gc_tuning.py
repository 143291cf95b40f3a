"""The garbage collector's thresholds for runbook-tui's processes.

Start-up (Textual's imports build a few hundred thousand objects) and a flood of
step output both keep many short-lived objects alive past a young collection. At
the default threshold (700 allocations) that means ~80 collections while the app
is imported (~40 ms) and, during a flood, full collections of 80-160 ms that
freeze the keys. 20,000 kept the worst stall under 50 ms with no growth in peak
memory (BENCHMARKS.md: start-up, log streaming).
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000


def tune_gc() -> None:
    """Collect the young generation every 20,000 allocations instead of 700."""
    gc.set_threshold(YOUNG_THRESHOLD, 10, 10)
