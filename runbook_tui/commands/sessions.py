"""``runbook-tui sessions [FILTER] [--json]`` and ``runbook-tui resume [SESSION] [--plain] [--yes]``."""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from ..core.durations import format_seconds
from ..core.errors import RunbookTuiError, UsageError
from ..core.model import Runbook
from ..core.sessions import SessionSummary, find_session, latest_unfinished, list_sessions, summarise, to_json

MIN_WIDTH = 60


class NothingToResume(RunbookTuiError):
    exit_code = 2


def run(args: argparse.Namespace) -> int:
    """Dispatch on the sub-command: ``sessions`` lists, ``resume`` continues."""
    if args.command == "resume":
        return resume(args)
    return list_command(args)


# --- sessions ------------------------------------------------------------------


def list_command(args: argparse.Namespace) -> int:
    """Print the recorded sessions, newest first, as a table or as JSON."""
    found = list_sessions()
    if args.filter:
        found = [s for s in found if s.matches(args.filter)]
    if args.json:
        print(json.dumps([to_json(s) for s in found], indent=2, ensure_ascii=False))
        return 0
    if not found:
        print("No sessions match." if args.filter else "No sessions recorded yet.")
        return 0
    width = max(MIN_WIDTH, min(shutil.get_terminal_size((80, 24)).columns, 120))
    print("\n".join(table(found, width)))
    return 0


def table(sessions: list[SessionSummary], width: int = 80) -> list[str]:
    """The sessions as lines no wider than ``width``."""
    # The id begins with the UTC start time, so it doubles as the STARTED column.
    headings = ("ID (starts with UTC time)", "PROCEDURE", "MODE", "OPERATOR", "TOOK", "OUTCOME")
    rows = [
        (
            s.id,
            s.procedure or "?",
            s.mode or "?",
            s.operator or "?",
            format_seconds(s.duration) if s.duration is not None else "–",
            s.outcome + ("!" if s.torn else ""),
        )
        for s in sessions
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headings)]
    budget = width - 2 * (len(headings) - 1)
    _shrink(widths, budget, shrinkable=(1, 3), floors=(0, 9, 0, 9, 0, 0))
    _shrink(widths, budget, shrinkable=(0, 1, 3), floors=(20, 6, 0, 6, 0, 0))
    lines = [_line(headings, widths), *(_line(r, widths) for r in rows)]
    if any(s.torn for s in sessions):
        lines.append("! the journal's last line was torn (the session stopped mid-write)")
    return lines


def _shrink(widths: list[int], budget: int, *, shrinkable: tuple[int, ...], floors: tuple[int, ...]) -> None:
    """Narrow the widest shrinkable column one step at a time until the row fits ``budget``."""
    while sum(widths) > budget:
        candidates = [i for i in shrinkable if widths[i] > floors[i]]
        if not candidates:
            return
        widest = max(candidates, key=lambda i: widths[i])
        widths[widest] -= 1


def _line(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(_clip(c, w).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# --- resume --------------------------------------------------------------------


def resume(args: argparse.Namespace) -> int:
    """Pick the session, find its runbook, warn if it changed, and continue in the app or plainly."""
    summary = pick(args.session)
    runbook = resolve_runbook(summary, getattr(args, "runbooks", []) or [])
    warning = changed_warning(summary)
    if warning:
        print(f"runbook-tui: warning: {warning}", file=sys.stderr)
    print(
        f"Resuming {summary.id}: {summary.procedure_title or summary.procedure} "
        f"({summary.mode}), started {datetime.fromtimestamp(summary.started, UTC):%Y-%m-%d %H:%M:%S}Z "
        f"by {summary.operator or 'an unrecorded operator'}",
        file=sys.stderr,
    )
    if args.plain:
        return _continue_plain(summary, runbook, args)
    if getattr(args, "from_step", None):
        raise UsageError("--from needs --plain; in the app, resume and press F on the step to run from")
    return _continue_in_app(summary, runbook, args)


def pick(ref: str | None) -> SessionSummary:
    """The session to resume: the named one (which must be unfinished), else the latest unfinished."""
    if ref:
        summary = summarise(find_session(ref))
        if summary.is_finished:
            raise NothingToResume(
                f"session {summary.id} already finished ({summary.outcome}); there is nothing to resume. "
                f"See what happened with: runbook-tui report {summary.id}"
            )
        return summary
    latest = latest_unfinished()
    if latest is None:
        raise NothingToResume(
            "no unfinished session to resume; 'runbook-tui sessions' lists the recorded ones, "
            "'runbook-tui run' starts a new one"
        )
    return latest


def resolve_runbook(summary: SessionSummary, extra_dirs: Sequence[str] = ()) -> Runbook:
    """The runbook the session followed: from its recorded path, else by its id in the library."""
    from ..core.library import resolve_runbook as by_ref
    from ..core.loader import load_runbook

    recorded = Path(summary.runbook_path) if summary.runbook_path else None
    if recorded is not None and recorded.is_file():
        return load_runbook(recorded)
    if not summary.runbook:
        raise NothingToResume(
            f"session {summary.id} does not say which runbook it followed (its journal is torn before "
            "session_started); it cannot be resumed, but 'runbook-tui report' still shows what happened"
        )
    try:
        return by_ref(summary.runbook, [Path(d) for d in extra_dirs])
    except RunbookTuiError as exc:
        where = f" (it was at {summary.runbook_path})" if summary.runbook_path else ""
        raise NothingToResume(
            f"the runbook {summary.runbook!r} of session {summary.id} cannot be found{where}: {exc}. "
            "Put it back, or add its folder with --runbooks DIR"
        ) from exc


def changed_warning(summary: SessionSummary) -> str:
    """A warning when the runbook file's content differs from what the session recorded."""
    if not summary.runbook_path or not summary.runbook_sha256:
        return ""
    try:
        now = hashlib.sha256(Path(summary.runbook_path).read_bytes()).hexdigest()
    except OSError:
        return f"{summary.runbook_path} is gone; the runbook was found by its id {summary.runbook!r} instead"
    if now != summary.runbook_sha256:
        return (
            f"{summary.runbook_path} changed since the session started "
            f"(sha256 {summary.runbook_sha256[:12]} then, {now[:12]} now); "
            "steps are matched by id, so check the remaining ones before going on"
        )
    return ""


def _continue_plain(summary: SessionSummary, runbook: Runbook, args: argparse.Namespace) -> int:
    from ..console import runner

    given = runner.given_params(args, runbook)
    accept = bool(getattr(args, "accept_damaged", False))
    from_step = getattr(args, "from_step", None)
    return int(
        runner.resume(
            summary.path, runbook, yes=bool(args.yes), given=given, accept_damaged=accept, from_step=from_step
        )
    )


def _continue_in_app(summary: SessionSummary, runbook: Runbook, args: argparse.Namespace) -> int:
    from . import app  # Textual is imported only on this path

    # The app opens the run screen on the recorded session, rebuilt from its journal.
    args.resume_session = summary.path
    args.resume_drill = summary.mode == "drill"
    args.runbook = str(runbook.path) if runbook.path else summary.runbook
    args.procedure = summary.procedure
    return int(app.run(args))
