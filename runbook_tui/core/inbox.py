"""Handing a note to a running session, so its journal keeps one writer (issue 17).

``runbook-tui note`` never appends to the journal of a session another process is
running. The running session keeps an inbox folder beside its journal,
``<journal>.inbox/`` (0700; 2770 with 0660 files in a team folder, so another account
of the team can hand in a note or resume the session), with an ``owner`` file naming its process. ``note``
drops one JSON file per item there (written to a temporary name, fsynced, then
renamed, so the session never reads half an item); the session looks every half
second, journals each item as its own event in file-name order, then deletes it.

Why files and not a socket: nothing to connect to or time out, an item survives a
crash of either side, and a session that died with items waiting gets them
journalled by the next ``note`` or ``resume`` (``drain``). When no live process owns
the inbox, ``note`` appends to the journal itself (it is then the only writer).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .liveness import alive_here

POLL_SECONDS = 0.5
_OWNER = "owner"


def _modes(journal: Path) -> tuple[int, int]:
    """The inbox folder's and its files' modes: private, or the team's (see locations)."""
    from .. import locations

    team = locations.is_team_folder(journal.parent)
    return (0o2770, 0o660) if team else (0o700, 0o600)


def _ensure_folder(journal: Path) -> tuple[Path, int]:
    """The inbox folder, made with the journal folder's sharing; and the mode for files in it."""
    folder = inbox_dir(journal)
    dir_mode, file_mode = _modes(journal)
    try:
        folder.mkdir(mode=dir_mode)
        folder.chmod(dir_mode)  # mkdir's mode is cut by the umask; a team's group must get in
    except FileExistsError:
        pass
    return folder, file_mode


def inbox_dir(journal: Path) -> Path:
    """The inbox folder of the session whose journal is ``journal``."""
    return journal.with_name(journal.name + ".inbox")


def owner_pid(journal: Path) -> int | None:
    """The pid of the live process running this session on this host, or None."""
    try:
        data = json.loads((inbox_dir(journal) / _OWNER).read_text(encoding="utf-8"))
        pid, host = int(data["pid"]), str(data["host"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return pid if alive_here(host, pid) else None


def post(journal: Path, item: dict[str, Any]) -> Path:
    """Drop ``item`` in the session's inbox (atomically); returns the file it was written to."""
    folder, file_mode = _ensure_folder(journal)
    name = f"{time.time_ns():020d}-{secrets.token_hex(3)}.json"
    tmp = folder / f".{name}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, file_mode)
    try:
        os.fchmod(fd, file_mode)
        os.write(fd, json.dumps(item, ensure_ascii=False).encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    final = folder / name
    os.rename(tmp, final)
    return final


def take(journal: Path) -> list[tuple[Path, dict[str, Any]]]:
    """The items waiting, oldest first (unreadable files are set aside as ``.bad``)."""
    folder = inbox_dir(journal)
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".json") and not n.startswith("."))
    except FileNotFoundError:
        return []
    items: list[tuple[Path, dict[str, Any]]] = []
    for name in names:
        path = folder / name
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                path.rename(path.with_suffix(".bad"))
            continue
        items.append((path, data))
    return items


Deliver = Callable[[dict[str, Any]], None]


def drain(journal: Path, deliver: Deliver) -> int:
    """Journal every waiting item with ``deliver`` (then delete it); returns how many were journalled.

    An item ``deliver`` refuses (empty text, a bad date) is renamed ``.refused``, kept, not lost.
    """
    count = 0
    for path, item in take(journal):
        try:
            deliver(item)
        except Exception:  # a bad item must not stop the session
            with contextlib.suppress(OSError):
                path.rename(path.with_suffix(".refused"))
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        count += 1
    return count


class InboxServer:
    """The running session's side: own the inbox, poll it, journal what arrives."""

    def __init__(self, journal: Path, deliver: Deliver) -> None:
        self.journal = journal
        self.deliver = deliver
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Claim the inbox for this process and poll it on the running loop."""
        folder, file_mode = _ensure_folder(self.journal)
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
        tmp = folder / f".{_OWNER}.{os.getpid()}"
        tmp.write_text(json.dumps(owner), encoding="utf-8")
        tmp.chmod(file_mode)
        os.replace(tmp, folder / _OWNER)
        self._task = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(POLL_SECONDS)
            self.drain()

    def drain(self) -> int:
        """Journal what is waiting now."""
        return drain(self.journal, self.deliver)

    def stop(self, *, drain_first: bool) -> None:
        """Stop polling (journalling what is waiting when ``drain_first``) and give up the inbox."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if drain_first:
            self.drain()
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            (inbox_dir(self.journal) / _OWNER).unlink()
        with contextlib.suppress(OSError):
            inbox_dir(self.journal).rmdir()  # only when empty


def deliver_to(recorder: Any) -> Deliver:
    """How a running session's ``EvidenceRecorder`` (engine/record.py) journals an action item or a note."""

    def deliver(item: dict[str, Any]) -> None:
        kind = item.get("kind")
        author = str(item.get("author") or "")
        if kind == "action_item":
            recorder.add_action_item(
                str(item.get("text", "")), str(item.get("owner", "")), str(item.get("due", "")), author=author
            )
        elif kind == "note":
            recorder.note(str(item.get("text", "")), author=author)
        else:
            raise ValueError(f"an inbox item of unknown kind {kind!r}")

    return deliver
