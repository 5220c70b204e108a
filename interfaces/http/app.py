"""The app factory: `create_app(trawl)` is the whole HTTP API of one Trawl."""

from __future__ import annotations

from litestar import Litestar

from interfaces.bootstrap import Trawl
from interfaces.http.plugin import TrawlPlugin


def create_app(trawl: Trawl, *, close_on_shutdown: bool = False) -> Litestar:
    """The Litestar app serving `trawl`.

    The caller owns `trawl` (and closes it) unless `close_on_shutdown` is set,
    in which case the app closes it when the ASGI server shuts down.
    """
    return Litestar(plugins=[TrawlPlugin(trawl, close_on_shutdown=close_on_shutdown)])
