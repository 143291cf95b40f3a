"""A tamper-evident journal: every line carries a keyed hash chained to the line before (issue 17).

Each line of a chained journal (the header too) ends with ``,"h":"<p>-<mac>"}`` where

- ``mac`` = the first 12 bytes (24 hex) of HMAC-SHA256(key, link(previous line) + body),
  ``body`` being the line's bytes before ``,"h":``; the header's previous link is empty;
- ``p`` = the first 8 hex of the previous line's link, so a removed line is told apart
  from a changed one;
- link(line) = its recorded ``mac`` (so one changed line fails alone, and the first
  failure is the line that was changed, removed or inserted).

The key is per user, 32 random bytes kept (hex) in ``config_dir()/chain.key``, mode
0600, created on first use; ``chain_key`` in ``config.toml`` or ``RUNBOOK_TUI_CHAIN_KEY``
names another file (a team's shared key; an auditor's copy). Someone who can write the
journal but not read the key cannot recompute the chain. The header names the key by
its fingerprint (the first 16 bytes of SHA-256 of the key, hex in pairs).

The journal writer calls :meth:`Chain.seal` on every block it writes (whole lines,
output lines batched), and :func:`resume_chain` when it reopens a journal.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ... import locations
from ..errors import RunbookTuiError

ENV_KEY = "RUNBOOK_TUI_CHAIN_KEY"
ALG = "hmac-sha256-96"
_MAC_BYTES = 12
_HEX = 2 * _MAC_BYTES
_TAIL = re.compile(rb',"h":"([0-9a-f]{8})-([0-9a-f]{24})"\}$')
_H_KEY = b',"h":"'


class ChainKeyError(RunbookTuiError):
    """The chain key cannot be read or created; the message names the file and the fix."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class ChainKey:
    """The secret and where it came from."""

    secret: bytes = field(repr=False)
    path: Path

    @property
    def fingerprint(self) -> str:
        """``ab:cd:...`` (16 bytes of SHA-256 of the key): says which key, never the key."""
        return ":".join(f"{b:02x}" for b in hashlib.sha256(self.secret).digest()[:16])


def key_path() -> Path:
    """``$RUNBOOK_TUI_CHAIN_KEY``, else ``chain_key`` in config.toml, else ``config_dir()/chain.key``."""
    env = os.environ.get(ENV_KEY)
    if env:
        return Path(env).expanduser()
    from ...config import load_config

    configured = load_config().chain_key
    return configured if configured is not None else locations.config_dir() / "chain.key"


def load_key(path: Path | None = None, *, create: bool = True) -> ChainKey:
    """The chain key at ``path`` (default :func:`key_path`), created (0600) when missing and ``create``."""
    path = path or key_path()
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        if not create:
            raise ChainKeyError(
                f"{path}: no chain key there; give the journal's key with --key FILE or {ENV_KEY}"
            ) from None
        return _create_key(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise ChainKeyError(f"{path}: cannot read the chain key: {exc}") from None
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < 16:
        raise ChainKeyError(
            f"{path}: not a chain key (expected 64 hex digits); restore it or point {ENV_KEY} at it"
        )
    mode = path.stat().st_mode
    # A team shares one key (chain_key / RUNBOOK_TUI_CHAIN_KEY) that its group reads; a
    # per-user key, and any key others can read, would let more people re-seal a journal.
    shared = path != locations.config_dir() / "chain.key"
    if mode & 0o007 or (mode & 0o070 and not shared):
        fix = f"chmod 640 {path} (a team's key: its group may read it)" if shared else f"chmod 600 {path}"
        raise ChainKeyError(f"{path}: the chain key is readable by others; {fix}")
    return ChainKey(secret, path)


def _create_key(path: Path) -> ChainKey:
    secret = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_key(path, create=False)  # another process made it first: use theirs
    except OSError as exc:
        raise ChainKeyError(
            f"{path}: cannot create the journal chain key: {exc.strerror or exc}; "
            f"point {ENV_KEY} (or chain_key in config.toml) at a writable place"
        ) from None
    try:
        os.write(fd, (secret.hex() + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    return ChainKey(secret, path)


def header_fields(key: ChainKey) -> dict[str, Any]:
    """What a chained journal's header says about its chain."""
    return {"chain": {"alg": ALG, "key": key.fingerprint}}


def _pads(secret: bytes) -> tuple[bytes, bytes]:
    """HMAC's inner and outer padded keys (RFC 2104)."""
    key = hashlib.sha256(secret).digest() if len(secret) > 64 else secret
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


class Chain:
    """The writer's side: seals lines in the order they are written."""

    __slots__ = ("_inner", "_outer", "head", "key", "lines")

    def __init__(self, key: ChainKey, head: bytes = b"", lines: int = 0) -> None:
        self.key = key
        self.head = head  # the link of the last line written (24 hex, ASCII); b"" before the header
        self.lines = lines
        # SHA-256 states with the padded keys already absorbed, copied per line: the same
        # HMAC-SHA256 without hashing the 64-byte pads again for every line (``hmac.digest``
        # builds an OpenSSL HMAC context per call, ~2.5 us; a copy is a memcpy).
        inner, outer = _pads(key.secret)
        self._inner, self._outer = hashlib.sha256(inner), hashlib.sha256(outer)

    def seal(self, block: bytes) -> bytes:
        """``block`` (whole lines, each a JSON object ending in ``}\\n``) with each line's hash added."""
        inner_copy, outer_copy = self._inner.copy, self._outer.copy
        prev = self.head
        out: list[bytes] = []
        append = out.append
        for line in block.split(b"\n")[:-1]:
            body = line[:-1]  # without its closing brace
            h = inner_copy()
            h.update(prev + body)
            o = outer_copy()
            o.update(h.digest())
            mac = o.hexdigest()[:_HEX].encode()
            append(b"".join((body, _H_KEY, prev[:8] or b"00000000", b"-", mac, b'"}')))
            prev = mac
        self.head = prev
        self.lines += len(out)
        out.append(b"")
        return b"\n".join(out)


def split(line: bytes) -> tuple[bytes, bytes, bytes] | None:
    """``(body, p, mac)`` of a sealed line (without its newline), or None when it has no hash."""
    m = _TAIL.search(line)
    if m is None:
        return None
    return line[: m.start()], m.group(1), m.group(2)


def expected_mac(key: ChainKey, prev: bytes, body: bytes) -> bytes:
    return hmac.digest(key.secret, prev + body, "sha256")[:_MAC_BYTES].hex().encode()


def link_of(line: bytes) -> bytes:
    """The link a line passes on: its recorded mac, or (a line without one) a hash of its bytes."""
    parts = split(line)
    return parts[2] if parts is not None else hashlib.sha256(line).hexdigest()[:24].encode()


def is_chained(header: dict[str, Any]) -> bool:
    chain = header.get("chain")
    return isinstance(chain, dict) and chain.get("alg") == ALG


def resume_chain(header: dict[str, Any], last_line: bytes | None, line_count: int = 0) -> Chain | None:
    """The chain to continue a reopened journal with (None for a journal written unchained)."""
    if not is_chained(header):
        return None
    key = load_key(create=False)
    wanted = str(header["chain"].get("key", ""))
    if wanted != key.fingerprint:
        raise ChainKeyError(
            f"the journal is chained with key {wanted}, but {key.path} is key {key.fingerprint}; "
            f"point {ENV_KEY} at the key it was written with"
        )
    return Chain(key, link_of(last_line) if last_line else b"", line_count)


def last_line(path: Path) -> bytes | None:
    """The last complete line of ``path`` (without its newline), read from the end."""
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        end = size
        chunks: list[bytes] = []
        # Skip a final newline; a torn (unterminated) tail was cut off before this is called.
        while end > 0:
            begin = max(0, end - 65536)
            handle.seek(begin)
            block = handle.read(end - begin)
            if not chunks and block.endswith(b"\n"):
                block = block[:-1]
                end -= 1
            cut = block.rfind(b"\n")
            if cut >= 0:
                chunks.append(block[cut + 1 :])
                break
            chunks.append(block)
            end = begin
        text = b"".join(reversed(chunks))
    return text or None


# --- verifying -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    """One place where the chain does not hold."""

    line: int
    what: str  # "changed", "removed", "inserted", "unhashed", "damaged"
    text: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """What ``verify`` found."""

    status: str  # "intact", "tampered", "unchained"
    lines: int
    head: str
    key_fingerprint: str
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()


def _lines(path: Path) -> Iterator[tuple[int, bytes, bool]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            complete = raw.endswith(b"\n")
            yield number, raw[:-1] if complete else raw, complete


def verify(path: Path, key: ChainKey | None, header: dict[str, Any]) -> Verdict:
    """Check every line of the journal at ``path`` against the chain (``key`` None: unchained only)."""
    if not is_chained(header):
        return _unchained(path)
    if key is None:
        raise ChainKeyError("a chained journal needs its key to be verified")
    wanted = str(header["chain"].get("key", ""))
    if wanted != key.fingerprint:
        raise ChainKeyError(
            f"{path}: chained with key {wanted}; {key.path} is key {key.fingerprint}: "
            "give the right key (--key FILE)"
        )
    findings: list[Finding] = []
    notes: list[str] = []
    prev = b""
    pending: tuple[int, bytes, bool, bool] | None = None  # a failed line, judged by the line after it
    count = 0
    for number, line, complete in _lines(path):
        if not complete:
            notes.append(f"line {number}: the last line was cut off (a crash mid-write); it is not covered")
            break
        count = number
        parts = split(line)
        before = prev
        if parts is None:
            if pending is not None:
                _judge(pending, key, b"", b"", False, findings)
            findings.append(
                Finding(number, "unhashed", f"line {number} has no chain hash: inserted or altered")
            )
            prev = link_of(line)
            pending = None
            continue
        body, p, mac = parts
        ok = expected_mac(key, before, body) == mac
        if pending is not None:
            ok = _judge(pending, key, body, mac, ok, findings)
            pending = None
        if not ok:
            # Judged by the next line: does it chain to this one (changed / removed before)
            # or to the one before it (this one was inserted)?
            pending = (number, before, p != (before[:8] or b"00000000"), mac == before)
        prev = mac
    if pending is not None:
        _judge(pending, key, b"", b"", False, findings)
    torn = Path(f"{path}.torn")
    if torn.exists():
        notes.append(f"a torn last line was cut off at a resume and kept in {torn}")
    status = "tampered" if findings else "intact"
    findings.sort(key=lambda f: f.line)
    return Verdict(
        status, count, prev.decode("ascii", "replace"), key.fingerprint, tuple(findings), tuple(notes)
    )


def _judge(
    pending: tuple[int, bytes, bool, bool],
    key: ChainKey,
    body: bytes,
    mac: bytes,
    ok: bool,
    findings: list[Finding],
) -> bool:
    """Name what happened to the failed line ``pending`` from the line after it; True when that line holds."""
    number, before, elsewhere, repeats = pending
    # Inserted: the next line chains to the line before it, or it repeats the line before it.
    if repeats or (not ok and mac and expected_mac(key, before, body) == mac):
        findings.append(Finding(number, "inserted", f"line {number} was inserted"))
        return ok or (bool(mac) and expected_mac(key, before, body) == mac)
    if elsewhere:
        findings.append(
            Finding(
                number, "removed", f"a line was removed before line {number} (its predecessor is not there)"
            )
        )
    else:
        findings.append(Finding(number, "changed", f"line {number} was changed"))
    return ok


def _unchained(path: Path) -> Verdict:
    """A header without a chain: written before chaining, unless its lines carry hashes."""
    for number, line, complete in _lines(path):
        if number > 1 and complete and split(line) is not None:
            finding = Finding(
                1, "changed", "line 1 (the header) says unchained, but the lines carry chain hashes"
            )
            return Verdict("tampered", number, "", "", (finding,))
    return Verdict("unchained", 0, "", "")
