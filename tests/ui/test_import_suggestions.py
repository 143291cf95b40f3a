"""A value the runbook's prose gives is a suggestion: pre-filled when asked, never a silent default."""

from __future__ import annotations

import subprocess
from pathlib import Path

from helpers.cli import run_cli
from textual.app import App, ComposeResult
from textual.widgets import Input

from runbook_tui.core.model import Parameter
from runbook_tui.ui.screens.parameter import ParameterModal, rules_text

MARKDOWN = """# Cache rollback

The namespace is `payments`.

## Flush the stale keys

```bash
echo namespace=[NAMESPACE]
```
"""


class _Host(App[None]):
    def compose(self) -> ComposeResult:
        return iter(())


async def test_prompt_prefills_the_suggestion() -> None:
    param = Parameter("NAMESPACE", "The namespace", pattern=r"^[a-z]+$", suggestion="payments")
    host = _Host()
    results: list[str | None] = []
    async with host.run_test(size=(80, 24)) as pilot:
        host.push_screen(ParameterModal(param), results.append)
        await pilot.pause()
        assert host.screen.query_one(Input).value == "payments"
        await pilot.press("enter")
        await pilot.pause()
    assert results == ["payments"]
    assert "suggested payments" in rules_text(param) and "required" in rules_text(param)


def test_square_placeholder_gets_the_prose_value_as_suggestion() -> None:
    from runbook_tui.core.importer.markdown import import_markdown
    from runbook_tui.core.loader import load_text

    result = import_markdown(MARKDOWN, "cache.md")
    param = load_text(result.yaml_text, "cache.md", line_map=result.line_map).parameter("namespace")
    assert param is not None and param.suggestion == "payments" and param.default is None


def _run(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("run", str(path), "flush-the-stale-keys", "--plain", *extra, cwd=path.parent)


def test_headless_run_is_not_given_the_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "cache.md"
    path.write_text(MARKDOWN)
    refused = _run(path, "--yes")
    assert refused.returncode != 0
    assert "parameter namespace has no value" in refused.stdout + refused.stderr
    given = _run(path, "--yes", "--param", "namespace=payments")
    assert given.returncode == 0, given.stdout + given.stderr
    assert "namespace=payments" in given.stdout
