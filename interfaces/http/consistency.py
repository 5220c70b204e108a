"""Read-your-writes: `X-Trawl-Wait-For: <position>` on query routes.

A query route (or controller) declares the views it reads with
`guards=[reads("projects")]`; views this Trawl does not run are skipped. Given
the header, the guard waits on the event loop (no thread held) until
those views have read the position, at most `TRAWL_CONSISTENCY_WAIT_MS`;
then the handler runs, or the answer is 503 `consistency-timeout`.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.params import HeaderParameter
from litestar.types import Guard

from interfaces.http.dependencies import trawl_of
from interfaces.http.errors import HttpProblem

HEADER = "X-Trawl-Wait-For"
MAX_DIGITS = 18

# Documents the header on query controllers (`parameters = WAIT_FOR`).
WAIT_FOR: dict[str, Any] = {
    "x_trawl_wait_for": HeaderParameter(
        name=HEADER,
        annotation=str | None,
        required=False,
        description="Answer once the views have applied this log position (a command's).",
    )
}


def parse_position(raw: str) -> int:
    value = raw.strip()
    if not value.isascii() or not value.isdigit() or len(value) > MAX_DIGITS:
        raise HttpProblem(400, "invalid-request", f"{HEADER} must be a position (an integer >= 0)")
    return int(value)


def reads(*views: str) -> Guard:
    """A guard waiting until `views` have applied the position the client names."""

    async def wait_for(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        raw = connection.headers.get(HEADER)
        if raw is None:
            return
        position = parse_position(raw)
        trawl = trawl_of(connection)
        timeout = trawl.settings.consistency_wait_ms / 1000
        # Only the views this Trawl runs (a view added later is declared early).
        names = [name for name in views if name in trawl.views]
        if not await trawl.positions.wait_async(names, position, timeout):
            raise HttpProblem(
                503,
                "consistency-timeout",
                f"the views {', '.join(names)} have not reached position {position} yet",
                {"Retry-After": "1"},
            )

    return wait_for
