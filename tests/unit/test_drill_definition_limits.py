"""drill.yaml's caps: retry_limit and watch_limit read into DrillLimits, and bad values named."""

from __future__ import annotations

from pathlib import Path

import pytest

from runbook_tui.core.drills import DrillError, DrillLimits, find_drill, load_drill
from runbook_tui.core.library import resolve_runbook

FIX = "write it like 90s, 5m, 1h30m"


def drill(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "drill.yaml"
    path.write_text(f"drill: 1\nrunbook: payments\n{extra}\n")
    return path


def test_retry_limit_and_watch_limit_are_the_drills_limits(tmp_path: Path) -> None:
    loaded = load_drill(drill(tmp_path, "retry_limit: 10s\nwatch_limit: 1m"))
    assert (loaded.retry_limit, loaded.watch_limit) == (10.0, 60.0)
    assert loaded.limits == DrillLimits(watch=60.0, retry=10.0)
    assert load_drill(drill(tmp_path, "")).limits == DrillLimits(watch=None, retry=None)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("soon", "cannot read 'soon' as a duration"),
        ("-5", "a duration must be zero or more seconds, got -5"),
        ("true", "expected a duration, got True"),
        ("[10s]", "cannot read ['10s'] as a duration"),
    ],
)
@pytest.mark.parametrize("key", ["retry_limit", "watch_limit"])
def test_a_bad_limit_names_the_file_the_key_and_the_fix(
    tmp_path: Path, key: str, value: str, problem: str
) -> None:
    path = drill(tmp_path, f"{key}: {value}")
    with pytest.raises(DrillError) as caught:
        load_drill(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: {problem}; {FIX}"), message


def test_bundled_drills_cap_retries_where_their_runbooks_retry() -> None:
    """Every bundled drill whose runbook has an http step with retry_for sets retry_limit."""
    for rb_id in ("connectin", "connectias", "strict-connection-flow"):
        runbook = resolve_runbook(rb_id)
        retries = [
            step.spec.retry_for
            for procedure in runbook.procedures
            for step in procedure.all_steps()
            if getattr(step.spec, "retry_for", 0)
        ]
        limit = find_drill(runbook).limits.retry
        if retries:
            assert limit is not None and limit < min(retries), rb_id
    assert find_drill(resolve_runbook("connectin")).limits == DrillLimits(watch=10.0, retry=10.0)
