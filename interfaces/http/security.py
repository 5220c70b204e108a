"""Who may call what: the public routes, the credentials, the caller.

`PUBLIC_PATHS` is the one list of routes that need no credentials; every
other route needs a principal and is 401 (problem+json) before anything is
looked up. `build_auth` wires Litestar's `JWTAuth` (bearer tokens bound to
the password version) and the credential headers tried before it, in order:
`X-API-Key`, then `X-Share-Token` (a share link). `request.user` is always a
`Caller`.

A share token that is unknown, expired or revoked is no principal. On a
route that addresses a project or something inside one (handlers marked
`opt=IN_PROJECT`) it answers 404 `not-found`, exactly what a live link
answers for a project it does not open: the holder learns nothing, not even
that the link once worked. Elsewhere (`/me`, the project list, ...) there is
no project to be "not found", so it is the 401 of any missing credential.
A live link on a route that needs an account is 403 (`Caller.account`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from uuid import UUID

import anyio.to_thread
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import Token

from application import records
from application.auth import errors as auth_errors
from application.auth.principal import Caller
from application.store import NotFound
from interfaces.bootstrap import Trawl
from interfaces.http.authentication import Credential, TrawlJWTAuth

# The one list of routes that need no credentials (exact paths, and prefixes).
PUBLIC_PATHS = (
    "/health/live",
    "/health/ready",
    "/metrics",
    "/asyncapi.json",
    "/api/v1/auth/register",
    "/api/v1/auth/verify-email",
    "/api/v1/auth/token",
)
PUBLIC_PREFIXES = ("/schema",)
PASSWORD_VERSION_CLAIM = "password_version"  # noqa: S105 - a claim name
SHARE_TOKEN_HEADER = "X-Share-Token"  # noqa: S105 - a header name

# `opt` of the routes that address one project or something inside it.
IN_PROJECT_KEY = "in_project"
IN_PROJECT: dict[str, Any] = {IN_PROJECT_KEY: True}


def is_public(path: str) -> bool:
    """True when the route at `path` answers without credentials."""
    return path in PUBLIC_PATHS or any(
        path == prefix or path.startswith(prefix + "/") for prefix in PUBLIC_PREFIXES
    )


def exclusions() -> list[str]:
    exact = [f"^{re.escape(path)}$" for path in PUBLIC_PATHS]
    return exact + [f"^{re.escape(prefix)}(/.*)?$" for prefix in PUBLIC_PREFIXES]


class TokenIssuer:
    """Signs access tokens (a dependency of the sign-in route)."""

    def __init__(self, auth: TrawlJWTAuth, ttl_seconds: int) -> None:
        self._auth = auth
        self.ttl_seconds = ttl_seconds

    def issue(self, principal: records.Principal) -> str:
        """An access token for the principal, bound to its password version."""
        return self._auth.create_token(
            identifier=str(principal.user_id),
            token_extras={PASSWORD_VERSION_CLAIM: principal.password_version},
        )


def build_auth(trawl: Trawl) -> TrawlJWTAuth:
    """The authentication of the API over this Trawl."""

    async def retrieve_user(
        token: Token, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> Caller | None:
        try:
            user_id = UUID(token.sub)
        except ValueError:
            return None
        hit, principal = trawl.auth.cached_principal(user_id)
        if not hit:  # a database read: off the event loop
            principal = await anyio.to_thread.run_sync(trawl.auth.principal, user_id)
        if principal is None:
            return None
        if token.extras.get(PASSWORD_VERSION_CLAIM) != principal.password_version:
            return None  # the password changed since the token was issued
        return Caller.user(user_id, principal.role)

    async def api_key_caller(
        raw_key: str, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> Caller | None:
        return await anyio.to_thread.run_sync(trawl.auth.caller_for_api_key, raw_key)

    async def share_link_caller(
        token: str, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> Caller | None:
        caller = await anyio.to_thread.run_sync(trawl.links.caller, token)
        if caller is None and connection.route_handler.opt.get(IN_PROJECT_KEY):
            raise NotFound("project not found")  # like a live link to another project
        return caller

    return TrawlJWTAuth(
        token_secret=trawl.jwt_secret,
        retrieve_user_handler=retrieve_user,
        default_token_expiration=timedelta(seconds=trawl.settings.token_ttl_seconds),
        exclude=exclusions(),
        exclude_http_methods=["OPTIONS"],
        description="Access token from POST /api/v1/auth/token.",
        credentials=(
            Credential(
                "X-API-Key", "ApiKey", "API key from POST /api/v1/auth/api-keys.", api_key_caller
            ),
            Credential(
                SHARE_TOKEN_HEADER,
                "ShareToken",
                "Share-link token from POST /api/v1/projects/{id}/share-links.",
                share_link_caller,
            ),
        ),
    )


def account_of(caller: Caller) -> UUID:
    """The caller's own account; 403 for a caller that has none (a share link)."""
    if caller.user_id is None:
        raise auth_errors.Forbidden("this needs a signed-in account")
    return caller.user_id


def provide_caller(request: Request[Any, Any, Any]) -> Caller:
    """The authenticated caller (a dependency of every protected route)."""
    user = request.scope.get("user")
    if not isinstance(user, Caller):
        raise NotAuthorizedException("no credentials")
    return user
