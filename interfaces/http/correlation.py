"""Correlation ids: `X-Request-Id` in, the same id on every event and answer.

A sane incoming id is kept (a proxy or client may have set it); anything else
is replaced by a fresh one. The id is computed once per request and cached in
the ASGI scope, so handlers, error handlers and the `before_send` hook agree.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

HEADER = "X-Request-Id"
_SANE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_STATE_KEY = "trawl_request_id"


def request_id(scope: Scope) -> str:
    """The correlation id of the request in this scope."""
    state: dict[str, Any] = scope.setdefault("state", {})  # type: ignore[typeddict-item]
    found = state.get(_STATE_KEY)
    if isinstance(found, str):
        return found
    incoming = _header(scope, HEADER.lower().encode())
    value = incoming if incoming and _SANE.match(incoming) else uuid.uuid4().hex
    state[_STATE_KEY] = value
    return value


async def echo_request_id(message: Message, scope: Scope) -> None:
    """`before_send` hook: every HTTP answer carries the request's id."""
    if message["type"] == "http.response.start":
        MutableScopeHeaders.from_message(message)[HEADER] = request_id(scope)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None
