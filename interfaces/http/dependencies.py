"""Request-scoped values handlers ask for by name: the Trawl, `If-Match`."""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.params import HeaderParameter

from interfaces.bootstrap import Trawl
from interfaces.http.errors import HttpProblem

STATE_KEY = "trawl"

# Documents the header on controllers whose commands honour it.
IF_MATCH: dict[str, Any] = {
    "if_match": HeaderParameter(
        name="If-Match",
        annotation=str | None,
        required=False,
        description='The version the change expects (an ETag: "3"); 412 when stale.',
    )
}
_IF_MATCH = re.compile(r'^(?:W/)?"?(\d{1,18})"?$')


def trawl_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Trawl:
    """The Trawl the app serves (kept in the app state by the plugin)."""
    trawl: Trawl = connection.app.state[STATE_KEY]
    return trawl


def provide_trawl(request: Request[Any, Any, Any]) -> Trawl:
    return trawl_of(request)


def provide_expected_version(request: Request[Any, Any, Any]) -> int | None:
    """The version `If-Match` names (`"3"`, `3` or `W/"3"`); None without one or `*`."""
    raw = request.headers.get("If-Match")
    if raw is None or raw.strip() == "*":
        return None
    match = _IF_MATCH.match(raw.strip())
    if match is None:
        raise HttpProblem(400, "invalid-request", 'If-Match must be a version: "3"')
    return int(match.group(1))


def etag(version: int) -> str:
    """The ETag of an aggregate at a version."""
    return f'"{version}"'
