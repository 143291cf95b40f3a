"""``runbook-tui follow [SESSION] [--plain]``: watch a session someone else is running, read-only.

It tails the session's journal (``core/follow.py``): it never writes to it and takes
no lock. ``--plain`` prints the lines ``run --plain`` prints and exits with the
followed session's outcome (0 succeeded, 1 failed, 130 aborted; 2 bad usage; 3 the
runner is gone without finishing it: killed, or quit leaving it open).
"""

from __future__ import annotations

import argparse
import sys
import time

from ..core.errors import RunbookTuiError
from ..core.sessions import SessionSummary, find_session, latest_unfinished, summarise

RUNNER_GONE = 3  # exit code: the session will not finish unless someone resumes it


class NothingToFollow(RunbookTuiError):
    exit_code = 2


def pick(ref: str | None) -> SessionSummary:
    """The named session (finished or not: a finished one is replayed), else the newest unfinished."""
    if ref:
        return summarise(find_session(ref))
    latest = latest_unfinished()
    if latest is None:
        raise NothingToFollow(
            "no unfinished session to follow; 'runbook-tui sessions' lists the recorded ones, "
            "'runbook-tui follow SESSION' replays a finished one"
        )
    return latest


def run(args: argparse.Namespace) -> int:
    """Follow the picked session, in the app or (``--plain``) as lines; the exit code."""
    summary = pick(args.session)
    if args.plain:
        return follow_plain(summary)
    return _follow_in_app(summary, args)


def follow_plain(summary: SessionSummary) -> int:
    """Print every event of the session as ``run --plain`` does, until it finishes."""
    from ..console.printer import Printer
    from ..core.follow import POLL_SECONDS, FollowedSession

    printer = Printer(sys.stdout, tty=sys.stdout.isatty())
    who = summary.operator or "an unrecorded operator"
    printer.say(f"following {who}'s session {summary.id} (read-only): journal {summary.path}")
    followed = FollowedSession(summary.path)
    followed.subscribe(printer)
    try:
        while True:
            got = followed.poll()
            sys.stdout.flush()  # a pipe or a pager sees the output lines now, not at the next event
            outcome = followed.outcome
            if outcome is not None and not followed.tail.waiting:
                # Read on to the end of what is there: nothing should follow, but a resume might.
                if not got:
                    printer.say(f"the followed session {outcome.outcome}")
                    return outcome.exit_code
                continue
            if not got:
                gone = followed.check_runner()
                if gone is not None:
                    printer.say(
                        f"the session {summary.id} did not finish: {gone}; "
                        f"continue it with 'runbook-tui resume {summary.id}'"
                    )
                    return RUNNER_GONE
                time.sleep(POLL_SECONDS)
    except KeyboardInterrupt:
        printer.say("stopped following; the session goes on")
        return 130
    finally:
        followed.close()


def _follow_in_app(summary: SessionSummary, args: argparse.Namespace) -> int:
    from . import app  # Textual is imported only on this path

    return int(app.follow(summary, args))
