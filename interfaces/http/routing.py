"""One router for all controllers, so command and query controllers can share
a path (POST and GET /api/v1/projects).

Litestar 2 gives every route of every controller an automatic OPTIONS handler
and, when controllers meet on one path, refuses the second one ("Handler
already registered ... OPTIONS"); registering them one by one on the app also
re-registers the handlers already there (their sync functions get wrapped for
the thread pool twice). This router hides the automatic OPTIONS handlers from
whoever registers it: the controllers merge inside it, the app registers each
path once and adds one OPTIONS handler that knows every method of the path.
"""

from __future__ import annotations

from litestar import Router
from litestar.handlers import HTTPRouteHandler
from litestar.types.internal_types import RouteHandlerMapItem


def _automatic_options(handler: object) -> bool:
    return (
        isinstance(handler, HTTPRouteHandler)
        and handler.http_methods == {"OPTIONS"}
        and handler.handler_name == "options_handler"
        and not handler.include_in_schema
    )


class MergingRouter(Router):
    @property
    def route_handler_method_map(self) -> dict[str, RouteHandlerMapItem]:
        return {
            path: {m: h for m, h in handlers.items() if not _automatic_options(h)}
            for path, handlers in super().route_handler_method_map.items()
        }
