"""``runbook-tui note SESSION --action TEXT --owner NAME [--due DATE]`` (or ``--text`` for a note).

A running session is handed the item through its inbox (core/inbox.py) and journals it
itself, so its journal keeps one writer; any other session's journal is appended to
here (a finished one too: after the end, like an undo).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from ..core.errors import UsageError

WAIT_SECONDS = 5.0  # how long to wait for a running session to say it journalled the item


def run(args: argparse.Namespace) -> int:
    """Record the action item or note; 0 when recorded (or handed to the running session)."""
    from ..core import inbox
    from ..core.sessions import find_session

    item = _item(args)
    path = find_session(args.session)
    pid = inbox.owner_pid(path)
    if pid is not None:
        posted = inbox.post(path, item)
        deadline = time.monotonic() + WAIT_SECONDS
        while posted.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        if posted.exists():
            print(
                f"handed to the running session (pid {pid}); it journals it when it next looks (every 0.5 s)"
            )
        elif posted.with_suffix(".refused").exists():
            raise UsageError(
                f"the running session (pid {pid}) refused it; see {posted.with_suffix('.refused')}"
            )
        else:
            print(f"journalled by the running session (pid {pid}): {path}")
        return 0
    count = _append(path, item)
    print(
        f"appended to {path}"
        + (f" (with {count - 1} item(s) left waiting in its inbox)" if count > 1 else "")
    )
    return 0


def _item(args: argparse.Namespace) -> dict[str, Any]:
    from ..core.engine import default_operator
    from ..core.evidence import check_text, parse_due

    author = default_operator()
    if args.action is not None:
        if args.text is not None:
            raise UsageError("give --action (an action item) or --text (a note), not both")
        if not args.owner:
            raise UsageError("an action item needs an owner: --owner NAME")
        return {
            "kind": "action_item",
            "text": check_text(args.action, "--action"),
            "owner": check_text(args.owner, "--owner"),
            "due": parse_due(args.due),
            "author": author,
        }
    if args.text is not None:
        return {"kind": "note", "text": check_text(args.text, "--text"), "author": author}
    raise UsageError("say what to record: --action TEXT --owner NAME [--due YYYY-MM-DD], or --text TEXT")


def _append(path: Path, item: dict[str, Any]) -> int:
    """Append ``item`` (after anything left in the inbox) to a journal nobody is writing; how many."""
    from ..core import events as ev
    from ..core import inbox
    from ..core.journal import Journal

    journal = Journal.open_existing(path)

    def write(data: dict[str, Any]) -> None:
        if data.get("kind") == "action_item":
            journal.append(
                ev.ActionItemAdded(
                    text=str(data["text"]),
                    owner=str(data["owner"]),
                    due=str(data.get("due", "")),
                    author=str(data.get("author", "")),
                )
            )
        elif data.get("kind") == "note":
            journal.append(ev.NoteAdded(text=str(data["text"]), author=str(data.get("author", ""))))
        else:
            raise ValueError(f"unknown kind {data.get('kind')!r}")

    try:
        count = inbox.drain(path, write)
        write(item)
    finally:
        journal.close()
    return count + 1
