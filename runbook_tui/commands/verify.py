"""``runbook-tui verify SESSION [--key FILE]``: check a journal's hash chain.

Exit 0 intact, 1 tampered (naming the first line changed, removed or inserted), 3 a
journal written before chaining ("unchained"), 2 when it cannot be checked (no key,
the wrong key, not a journal).
"""

from __future__ import annotations

import argparse
from pathlib import Path

EXIT_INTACT, EXIT_TAMPERED, EXIT_UNCHAINED = 0, 1, 3


def run(args: argparse.Namespace) -> int:
    """Verify the session's journal; prints the verdict and returns the exit code."""
    from ..core.journal import chain as journal_chain
    from ..core.journal.reader import read_ends
    from ..core.journal.records import accepted_damage
    from ..core.sessions import find_session

    path = find_session(args.session)
    header, _tail = read_ends(path)
    if not journal_chain.is_chained(header):
        verdict = journal_chain.verify(path, None, header)
    else:
        key = journal_chain.load_key(Path(args.key) if args.key else None, create=False)
        verdict = journal_chain.verify(path, key, header)
    if verdict.status == "unchained":
        print(f"{path}: unchained: written before journals were chained (or by a version without it)")
        return EXIT_UNCHAINED
    accepted = accepted_damage(path)
    for note in verdict.notes:
        print(f"note: {note}")
    if verdict.status == "intact":
        print(f"{path}: intact: {verdict.lines} lines, head {verdict.head}, key {verdict.key_fingerprint}")
        return EXIT_INTACT
    first = verdict.findings[0]
    print(f"{path}:{first.line}: tampered: {_said(first, accepted)}")
    for more in verdict.findings[1:10]:
        print(f"{path}:{more.line}: also: {_said(more, accepted)}")
    if len(verdict.findings) > 10:
        print(f"... and {len(verdict.findings) - 10} more")
    return EXIT_TAMPERED


def _said(finding: object, accepted: dict[int, int]) -> str:
    from ..core.journal.chain import Finding

    assert isinstance(finding, Finding)
    at = accepted.get(finding.line)
    if at is not None:
        return f"line {finding.line} was damaged and accepted at a resume (recorded on line {at})"
    return finding.text
