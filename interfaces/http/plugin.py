"""The one InitPlugin: controllers, dependencies, errors, auth, OpenAPI, metrics."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.di import Provide
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.plugins import InitPlugin
from litestar.plugins.prometheus import PrometheusConfig, PrometheusController

from application.auth.principal import Caller
from interfaces.bootstrap import Trawl
from interfaces.http import correlation, errors
from interfaces.http import metrics as relay_metrics
from interfaces.http.audit.queries import AuditQueries
from interfaces.http.auth.commands import AuthCommands
from interfaces.http.auth.queries import AuthQueries
from interfaces.http.auth.sessions import Sessions
from interfaces.http.dependencies import STATE_KEY, provide_expected_version, provide_trawl
from interfaces.http.idempotency import Command, provide_command
from interfaces.http.projects.commands import ProjectCommands
from interfaces.http.projects.queries import ProjectQueries
from interfaces.http.ratelimit import SlidingWindowLimiter
from interfaces.http.routing import MergingRouter
from interfaces.http.security import TokenIssuer, build_auth, provide_caller
from interfaces.http.shares.commands import ShareCommands
from interfaces.http.shares.queries import ShareQueries
from interfaces.http.system.queries import SystemQueries
from interfaces.http.urls.commands import UrlCommands
from interfaces.http.urls.queries import UrlQueries
from interfaces.http.users.commands import UserCommands
from interfaces.http.vectorization.queries import SearchQueries

log = logging.getLogger(__name__)

CONTROLLERS = (
    AuthCommands,
    AuthQueries,
    Sessions,
    ProjectCommands,
    ProjectQueries,
    ShareCommands,
    ShareQueries,
    UrlCommands,
    UrlQueries,
    SearchQueries,
    SystemQueries,
    AuditQueries,
    UserCommands,
    PrometheusController,
)


class TrawlPlugin(InitPlugin):
    """Registers the whole HTTP interface of one Trawl on an app."""

    def __init__(self, trawl: Trawl, *, close_on_shutdown: bool = False) -> None:
        self.trawl = trawl
        self.close_on_shutdown = close_on_shutdown
        self.auth = build_auth(trawl)
        self.tokens = TokenIssuer(self.auth, trawl.settings.token_ttl_seconds)
        self.token_limiter = SlidingWindowLimiter(trawl.settings.token_rate_limit_per_minute)

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config.state[STATE_KEY] = self.trawl
        # The limit goes on the router: Litestar 2 ignores it when a plugin sets
        # it on the AppConfig (the app passes its constructor argument on).
        limit = self.trawl.settings.max_body_bytes
        app_config.route_handlers.append(
            MergingRouter("/", route_handlers=list(CONTROLLERS), request_max_body_size=limit)
        )
        app_config.dependencies.update(
            {
                "trawl": Provide(provide_trawl, sync_to_thread=False),
                "caller": Provide(provide_caller, sync_to_thread=False),
                "command": Provide(provide_command),
                "expected_version": Provide(provide_expected_version, sync_to_thread=False),
                "tokens": Provide(lambda: self.tokens, use_cache=True, sync_to_thread=False),
                "token_limiter": Provide(
                    lambda: self.token_limiter, use_cache=True, sync_to_thread=False
                ),
            }
        )
        app_config.signature_namespace.update(
            {
                "Trawl": Trawl,
                "Caller": Caller,
                "Command": Command,
                "TokenIssuer": TokenIssuer,
                "SlidingWindowLimiter": SlidingWindowLimiter,
            }
        )
        app_config.exception_handlers[Exception] = errors.handle
        app_config.before_send.append(correlation.echo_request_id)
        app_config.openapi_config = OpenAPIConfig(
            title="Trawl",
            version="1.0.0",
            description="Event-sourced backend for web knowledge bases.",
            path="/schema",
            render_plugins=[ScalarRenderPlugin()],
            use_handler_docstrings=True,
        )
        app_config.lifespan.append(self._lifespan)
        metrics = PrometheusConfig(app_name="trawl", prefix="trawl", group_path=True)
        relay_metrics.expose_relay(self.trawl.relay_status)
        app_config.middleware.append(metrics.middleware)
        # Last: JWTAuth puts its middleware first, so 401s happen before all else.
        return self.auth.on_app_init(app_config)

    @asynccontextmanager
    async def _lifespan(self, app: Litestar) -> AsyncIterator[None]:
        log.info("Trawl HTTP API ready (views: %s)", ", ".join(self.trawl.views))
        try:
            yield
        finally:
            if self.close_on_shutdown:
                await anyio.to_thread.run_sync(self.trawl.close)
