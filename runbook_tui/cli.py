"""The one entry point, ``runbook-tui``, and its sub-commands.

The argument contract lives here; each sub-command's work lives in
``runbook_tui/commands/<name>.py`` as ``run(args) -> int`` and is imported only
when that sub-command runs, so ``--help`` and ``run --plain`` stay fast and never
import Textual unless they need it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from . import __version__
from .core.errors import RunbookTuiError
from .gc_tuning import tune_gc

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    """argparse that exits 2 with one readable line, never a traceback."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _add_runbooks_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--runbooks",
        metavar="DIR",
        action="append",
        default=[],
        help="a folder of runbooks to add to the library (repeatable)",
    )


def _add_param_file_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--param-file",
        metavar="FILE",
        help="parameter values, one NAME=VALUE a line; the file must be mode 0600 (the way in for secrets, "
        "with RUNBOOK_TUI_PARAM_<name> in the environment)",
    )


def _add_inventory_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--inventory",
        metavar="FILE",
        help="the Ansible inventory for fleet steps (default: the runbook's inventory:, "
        "or RUNBOOK_TUI_INVENTORY)",
    )


def _use_inventory(args: argparse.Namespace) -> None:
    """``--inventory FILE`` reaches fleet steps as RUNBOOK_TUI_INVENTORY (it wins over the runbook's)."""
    inventory = getattr(args, "inventory", None)
    if not inventory:
        return
    from pathlib import Path

    from .core.errors import UsageError

    path = Path(inventory).expanduser()
    if not path.exists():
        raise UsageError(f"--inventory {inventory}: no such file; name an Ansible inventory")
    os.environ["RUNBOOK_TUI_INVENTORY"] = str(path.resolve())


def _add_display_options(p: argparse.ArgumentParser) -> None:
    """How much the app writes to the terminal (over a slow SSH link)."""
    from .config import refresh_rate

    p.add_argument(
        "--refresh",
        metavar="N",
        type=refresh_rate,
        help="log pane repaints a second while output floods (default 10; config: refresh)",
    )
    p.add_argument(
        "--low-bandwidth",
        action="store_true",
        default=None,
        help="for the slowest links: fewer repaints, no animations, newest log line only while following",
    )


def _add_evidence_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--impact-started",
        metavar="TIME",
        help="when impact started (the report's metrics run from it): ISO 8601, 03:12 (local), "
        "-25m or '25 minutes ago'",
    )
    p.add_argument(
        "--role",
        metavar="ROLE=NAME",
        action="append",
        default=[],
        help="who holds a role: ic=alice, ops=bob, comms=carol (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="runbook-tui",
        description="Walk through rollback runbooks: triage, run, time, record, report.",
    )
    parser.add_argument("--version", action="version", version=f"runbook-tui {__version__}")
    _add_runbooks_option(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("list", help="the runbooks found (bundled and configured)")
    _add_runbooks_option(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("show", help="one runbook's outline: procedures, steps, parameters")
    _add_runbooks_option(p)
    p.add_argument("runbook", metavar="RUNBOOK", help="an id, or a path to a .yaml or .md file")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("open", help="open a runbook in the app")
    _add_runbooks_option(p)
    p.add_argument("runbook", metavar="RUNBOOK")
    p.add_argument("procedure", metavar="PROCEDURE", nargs="?")
    p.add_argument("--drill", action="store_true", help="run it in a drill sandbox")
    p.add_argument("--workdir", metavar="DIR", help="where the procedure's commands run")
    _add_param_file_option(p)
    _add_inventory_option(p)
    _add_display_options(p)
    _add_evidence_options(p)

    p = sub.add_parser("run", help="run a procedure")
    _add_runbooks_option(p)
    p.add_argument("runbook", metavar="RUNBOOK")
    p.add_argument("procedure", metavar="PROCEDURE")
    p.add_argument("--plain", action="store_true", help="headless: one line per event")
    p.add_argument(
        "--param",
        metavar="K=V",
        action="append",
        default=[],
        help="a parameter value (repeatable; refused for secrets, which argv would show to every user)",
    )
    _add_param_file_option(p)
    p.add_argument("--yes", action="store_true", help="answer yes at every confirmation gate")
    p.add_argument(
        "--accept-preflight",
        action="store_true",
        help="with --plain: run although the pre-flight found missing programs or variables",
    )
    p.add_argument("--drill", action="store_true", help="run it in a drill sandbox")
    p.add_argument("--fault", metavar="NAME", help="with --drill: inject a named fault")
    p.add_argument("--keep", action="store_true", help="with --drill: keep the sandbox")
    p.add_argument("--workdir", metavar="DIR", help="where the procedure's commands run")
    _add_inventory_option(p)
    p.add_argument(
        "--plan-first",
        action="store_true",
        help="with --plain: print the plan (as 'plan' does) and ask once before running; with --yes, run",
    )
    _add_evidence_options(p)

    p = sub.add_parser("plan", help="what a procedure would do here, changing nothing")
    _add_runbooks_option(p)
    p.add_argument("runbook", metavar="RUNBOOK")
    p.add_argument("procedure", metavar="PROCEDURE")
    p.add_argument(
        "--param", metavar="K=V", action="append", default=[], help="a parameter value (repeatable)"
    )
    _add_param_file_option(p)
    _add_inventory_option(p)
    p.add_argument("--workdir", metavar="DIR", help="where the procedure's commands would run")
    p.add_argument("--json", action="store_true", help="machine-readable output (docs/cli-json.md)")

    p = sub.add_parser("validate", help="check runbook files; file:line:col: message per problem")
    p.add_argument("paths", metavar="PATH", nargs="+")

    p = sub.add_parser("import", help="turn a Markdown runbook into a YAML runbook")
    p.add_argument("file", metavar="FILE.md")
    p.add_argument("-o", "--output", metavar="OUT", help="write here instead of standard output")
    p.add_argument("--report", action="store_true", help="print what became what")

    p = sub.add_parser("sessions", help="list recorded sessions, newest first")
    p.add_argument("filter", metavar="FILTER", nargs="?", help="keep sessions that mention this")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("resume", help="continue a session after a crash or an SSH drop")
    p.add_argument("session", metavar="SESSION", nargs="?", help="default: the latest unfinished")
    p.add_argument("--plain", action="store_true", help="headless")
    p.add_argument("--yes", action="store_true")
    _add_param_file_option(p)
    p.add_argument(
        "--accept-damaged",
        action="store_true",
        help="resume past damaged journal lines (recorded in the journal; their steps are asked about)",
    )
    _add_display_options(p)
    p.add_argument(
        "--from",
        dest="from_step",
        metavar="STEP",
        help="with --plain: run again from STEP (earlier steps not done are skipped over; journalled)",
    )

    p = sub.add_parser("follow", help="watch a session someone else is running (read-only, live)")
    _add_runbooks_option(p)
    p.add_argument("session", metavar="SESSION", nargs="?", help="default: the newest unfinished")
    p.add_argument(
        "--plain", action="store_true", help="print the lines 'run --plain' prints; exit with its outcome"
    )
    _add_display_options(p)

    p = sub.add_parser("report", help="the post-incident report of a session")
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--format", choices=["markdown", "json", "svg"], default="markdown")
    p.add_argument("-o", "--output", metavar="FILE")

    p = sub.add_parser("drill", help="build a sandbox, then open the runbook in it")
    _add_runbooks_option(p)
    p.add_argument("runbook", metavar="RUNBOOK")
    p.add_argument("procedure", metavar="PROCEDURE", nargs="?")
    p.add_argument("--fault", metavar="NAME", help="a named fault, or 'random'")
    p.add_argument("--keep", action="store_true", help="keep the sandbox afterwards")
    p.add_argument("--list-faults", action="store_true", help="list the drill's faults and exit")
    _add_param_file_option(p)
    _add_inventory_option(p)
    _add_display_options(p)
    _add_evidence_options(p)

    p = sub.add_parser("note", help="add an action item (or a note) to a session, running or finished")
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--action", metavar="TEXT", help="an action item: what is to be done")
    p.add_argument("--owner", metavar="NAME", help="who owns the action item")
    p.add_argument("--due", metavar="YYYY-MM-DD", help="when it is due")
    p.add_argument("--text", metavar="TEXT", help="a plain note instead of an action item")

    p = sub.add_parser(
        "verify", help="check a session journal's hash chain (0 intact, 1 tampered, 3 unchained)"
    )
    p.add_argument("session", metavar="SESSION")
    p.add_argument("--key", metavar="FILE", help="the chain key file (default: config.toml's, or the user's)")

    return parser


def _glue_relative_times(argv: list[str]) -> list[str]:
    """``--impact-started -25m`` as ``--impact-started=-25m``: argparse would take -25m for an option."""
    out: list[str] = []
    for arg in argv:
        if out and out[-1] == "--impact-started" and arg.startswith("-") and arg[1:2].isdigit():
            out[-1] = f"--impact-started={arg}"
        else:
            out.append(arg)
    return out


_MODULES = {
    None: "runbook_tui.commands.app",
    "open": "runbook_tui.commands.app",
    "list": "runbook_tui.commands.library",
    "show": "runbook_tui.commands.library",
    "validate": "runbook_tui.commands.validate",
    "run": "runbook_tui.commands.run",
    "plan": "runbook_tui.commands.plan",
    "import": "runbook_tui.commands.importing",
    "sessions": "runbook_tui.commands.sessions",
    "resume": "runbook_tui.commands.sessions",
    "report": "runbook_tui.commands.report",
    "follow": "runbook_tui.commands.follow",
    "drill": "runbook_tui.commands.drill",
    "note": "runbook_tui.commands.note",
    "verify": "runbook_tui.commands.verify",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the sub-command; returns the exit code."""
    tune_gc()  # before the command's imports: ~30 ms of start-up were young collections
    args = build_parser().parse_args(_glue_relative_times(sys.argv[1:] if argv is None else list(argv)))
    module = importlib.import_module(_MODULES[args.command])
    try:
        _use_inventory(args)
        return int(module.run(args))
    except RunbookTuiError as exc:
        print(f"runbook-tui: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("runbook-tui: interrupted", file=sys.stderr)
        return 130
