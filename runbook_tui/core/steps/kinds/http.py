"""The ``http`` step kind: request a URL until it answers as expected.

Its runner is ``core/steps/http.py``. The URL and status checks are shared with
the decision matrix's signals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import KindDef, frozen_map

if TYPE_CHECKING:
    from ...loader.nodes import MappedNode, NodeReader

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass(frozen=True, slots=True)
class HttpSpec:
    """GET ``url`` until it answers ``expect_status`` (and ``expect_json``) or ``retry_for`` ends."""

    url: str
    expect_status: int = 200
    expect_json: Mapping[str, str] = field(default_factory=frozen_map)
    method: str = "GET"
    request_timeout: float = 5.0
    retry_for: float = 0.0
    retry_interval: float = 2.0


def check_url(r: NodeReader, m: MappedNode, url: str, what: str) -> None:
    """``url`` must be http(s) (or start with a placeholder)."""
    node = m.get("url")
    if node is None or not url:
        return
    if not url.startswith(("http://", "https://", "{{")):
        r.ctx.error(node, f"'url' of {what} must start with http:// or https://, found {url!r}")


def status(r: NodeReader, m: MappedNode, what: str, default: int | None) -> int | None:
    """``expect_status``, an HTTP status from 100 to 599."""
    value = r.integer(m, "expect_status", what, default)
    node = m.get("expect_status")
    if value is not None and node is not None and not 100 <= value <= 599:
        r.ctx.error(node, f"'expect_status' of {what} must be an HTTP status (100-599), found {value}")
    return value


def read(r: NodeReader, m: MappedNode, what: str) -> HttpSpec:
    """An http step's keys."""
    url = r.text(m, "url", what)
    check_url(r, m, url, what)
    method = r.text(m, "method", what, "GET").upper()
    method_node = m.get("method")
    if method not in HTTP_METHODS and method_node is not None:
        r.ctx.error(method_node, f"'method' of {what} must be one of {', '.join(HTTP_METHODS)}")
    request_timeout = r.duration(m, "request_timeout", what)
    timeout_node = m.get("request_timeout")
    if request_timeout == 0 and timeout_node is not None:
        r.ctx.error(timeout_node, f"'request_timeout' of {what} must be more than 0s")
    return HttpSpec(
        url=url,
        expect_status=status(r, m, what, 200) or 200,
        expect_json=r.text_map(m, "expect_json", what),
        method=method,
        request_timeout=request_timeout or 5.0,
        retry_for=r.duration(m, "retry_for", what) or 0.0,
        retry_interval=r.duration(m, "retry_interval", what) or 2.0,
    )


def describe(spec: HttpSpec) -> str | None:
    """The URL (None when empty: the title)."""
    return spec.url or None


KIND = KindDef(
    name="http",
    spec=HttpSpec,
    keys=frozenset(
        {"url", "expect_status", "expect_json", "method", "request_timeout", "retry_for", "retry_interval"}
    ),
    required=("url",),
    read=read,
    describe=describe,
    runner=("http", "HttpRunner"),
)
