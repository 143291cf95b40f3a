"""What makes an imported step safe to run: gates for destructive work, watches for endless commands.

``destructive_reasons`` names what a command will destroy, in words an engineer reads
in a confirmation. ``is_watch`` tells a command that never ends by itself (``-w``,
``--watch``, ``logs -f``, ``tail -f``, ``watch ...``). ``warning_text`` finds a warning
in prose next to a block (``**Warning:**``, ``CAUTION:``, ``> [!WARNING]``, a bold
sentence). Each rule is a regular expression over one statement; when a rule is unsure
it gates, because an imported runbook asks rather than guesses.
"""

from __future__ import annotations

import re

# (pattern, what will happen). Patterns run over one statement, case-sensitive unless (?i).
_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), what)
    for pattern, what in (
        (r"\b(?:kubectl|oc)\b.*\sdelete\b", "deletes Kubernetes objects"),
        (r"\bhelm\s+(?:uninstall|delete)\b", "uninstalls a Helm release"),
        (r"(?i)\bFLUSH(?:ALL|DB)\b", "empties the Redis data set"),
        (r"(?i)\bDROP\s+(?:TABLE|DATABASE|SCHEMA|INDEX|VIEW|USER|ROLE|COLUMN)\b", "drops database objects"),
        (r"\bdropdb\b", "drops a database"),
        (r"(?i)\bTRUNCATE\b", "empties a table or file"),
        (r"(?i)\bDELETE\s+FROM\b", "deletes database rows"),
        (r"(?:^|[\s;&|(])rm\s+(?:-\w*[rR]\w*|--recursive)\b", "removes files recursively"),
        (r"(?:^|[\s;&|(])rm\s", "removes files"),
        (r"\bpush\b.*\s(?:--force(?:-with-lease)?|-f)\b", "overwrites remote history"),
        (r"\bpush\b.*\s--delete\b", "deletes a remote branch or tag"),
        (r"(?<!push\s)(?<![\w-])--delete\b", "deletes files that are not in the source"),
        (r"\breset\s+--hard\b", "discards local changes"),
        (r"\bgit\s+clean\s+-\w*f", "deletes untracked files"),
        (r"\bgit\s+(?:branch\s+-D|tag\s+-d)\b", "deletes a git branch or tag"),
        (r"\bdowngrade\b", "downgrades the database schema"),
        (r"\bmigrate\s+(?:reset|down)\b|\bdb:rollback\b|\bmigrate:rollback\b", "reverts database migrations"),
        (r"\b(?:pg_restore|mongorestore|mysqlimport)\b", "overwrites a database from a backup"),
        (r"\brestore\b", "restores from a backup over what is there now"),
        (r"(?<![\w-])--clean\b", "drops objects before recreating them"),
        (r"\bscale\b.*--replicas[= ]0\b", "scales to zero replicas: the service stops"),
        (r"(?i)\bfail-?over\b|\bswitchover\b|\bpromote\b", "fails over to another node"),
        (
            r"(?<![\w-])--force\b|(?<![\w-])--grace-period[= ]0\b",
            "forces it, skipping the usual safety checks",
        ),
        (r"\bterraform\s+(?:destroy|apply\s.*-auto-approve)\b", "changes or destroys infrastructure"),
        (
            r"\b(?:docker|docker-compose|compose)\s+(?:rm|rmi|system\s+prune|volume\s+(?:rm|prune))\b",
            "removes Docker containers or data",
        ),
        (r"\b(?:docker[ -]compose|compose)\s+down\b.*\s(?:-v|--volumes)\b", "removes the Compose volumes"),
        (r"\b(?:kubectl|oc)\s+drain\b", "evicts every pod from a node"),
        (r"\b(?:kill\s+-9|pkill|killall)\b", "kills processes"),
        (r"\b(?:mkfs|shred|wipefs)\b|\bdd\s+.*\bof=", "overwrites a disk"),
        (r"\baws\s+s3\s+(?:rm|rb)\b|\bgsutil\s+(?:-m\s+)?rm\b", "deletes objects from a bucket"),
        (r"(?i)-X\s*DELETE\b|--request\s+DELETE\b", "sends an HTTP DELETE"),
        (r"(?i)\bredis-cli\b.*\s(?:DEL|UNLINK)\s", "deletes Redis keys"),
    )
)
# A later rule says the same thing in more general words; keep the most specific one.
_SUBSUMED: dict[str, tuple[str, ...]] = {
    "removes files": ("removes files recursively", "removes Docker containers or data"),
    "restores from a backup over what is there now": ("overwrites a database from a backup",),
}


def destructive_reasons(command: str) -> list[str]:
    """What ``command`` will destroy, one phrase per rule that matched (empty when none)."""
    found: dict[str, str] = {}
    for statement in _lines_of_code(command):
        for pattern, what in _RULES:
            match = pattern.search(statement)
            if match and what not in found:
                found[what] = _trigger(match.group(0))
    return [f"{w} (`{t}`)" for w, t in found.items() if not set(_SUBSUMED.get(w, ())) & set(found)]


def _trigger(text: str) -> str:
    """The words that matched, short enough for a confirmation line."""
    text = text.strip(" ;&|(")
    return text if len(text) <= 60 else text[:57] + "..."


def _lines_of_code(command: str) -> list[str]:
    """Lines without their comments (``# delete later`` in a comment destroys nothing)."""
    out = []
    for line in command.splitlines():
        text = line.strip()
        if text and not text.startswith("#"):
            out.append(re.sub(r"\s+#\s.*$", "", text))
    return out


_WATCH_RULES = tuple(
    re.compile(p)
    for p in (
        r"^(?:sudo\s+)?watch\s",
        r"\b(?:kubectl|oc)\s+(?!rollout\b).*?\s(?:-w|--watch(?:=true)?)(?:\s|$)",
        r"\b(?:kubectl|oc|docker|podman|docker-compose|compose)\b.*\slogs\b.*\s(?:-f|--follow)(?:\s|$)",
        r"\bjournalctl\b.*\s(?:-\w*f\w*|--follow)(?:\s|$)",
        r"\btail\s+(?:-\w*[fF]\w*|--follow)\b",
        r"\bstern\s",
        r"\s--watch(?:\s|$)",
    )
)


def is_watch(command: str) -> bool:
    """True for a single command that runs until someone stops it."""
    text = command.strip()
    if "\n" in text or text.startswith(("timeout ", "gtimeout ")):
        return False
    return any(rule.search(text) for rule in _WATCH_RULES)


DEFAULT_WATCH = "5m"  # documented in docs/runbook-format.md (Import)
_FOR_DURATION = re.compile(
    r"\bfor\s+(?:about\s+|at least\s+|another\s+|the next\s+)?"
    r"(\d+\s*(?:s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?))\b",
    re.I,
)


def watch_duration(*texts: str) -> str | None:
    """A duration stated for watching ("for 10 minutes") in the first text that has one."""
    for text in texts:
        match = _FOR_DURATION.search(text or "")
        if match:
            return match.group(1)
    return None


_WARNING_START = re.compile(
    r"^\W*(?:\[!(?:WARNING|CAUTION|DANGER|IMPORTANT)\]|warning|caution|danger|destructive|irreversible)\b",
    re.I,
)
_WARNING_WORDS = re.compile(r"\b(?:data loss|cannot be undone|irreversible|destructive)\b", re.I)
_BOLD_SENTENCE = re.compile(r"^\*\*[^*]+[.!]\*\*$|^\*\*[^*]+\*\*[.!]$")


def warning_text(text: str) -> str | None:
    """The warning a paragraph or admonition states, as plain text; None when it states none."""
    stripped = text.strip().lstrip(">").strip()
    if not stripped:
        return None
    if not (
        _WARNING_START.match(stripped) or _WARNING_WORDS.search(stripped) or _BOLD_SENTENCE.match(stripped)
    ):
        return None
    plain = re.sub(r"\[!(\w+)\]\s*", lambda m: m.group(1).capitalize() + ": ", stripped)
    plain = re.sub(r"\*\*|__|(?<!\w)\*|[⚠️🛑❗]", "", plain)
    plain = re.sub(r":\s*:", ":", plain)
    return re.sub(r"\s+", " ", plain).strip()
