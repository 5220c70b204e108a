"""Litestar's JWTAuth, extended with credential headers tried before the token.

`TrawlJWTAuth` keeps everything `JWTAuth` does (HS256 bearer tokens, the
route exclusions, the OpenAPI security scheme) and adds `credentials`: headers
such as `X-API-Key`, each with its own async lookup and OpenAPI `apiKey`
scheme. The middleware tries them in order, then the bearer token; a present
but unknown credential is 401 (it never falls through to another one),
unless its handler raises a more fitting error itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from litestar.config.app import AppConfig
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.authentication import AuthenticationResult
from litestar.openapi.spec import Components, SecurityScheme
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token

from application.auth.principal import Caller

CredentialHandler = Callable[[str, ASGIConnection[Any, Any, Any, Any]], Awaitable[Caller | None]]


@dataclass(frozen=True)
class Credential:
    """A credential header, tried before the bearer token, in order."""

    header: str
    scheme_name: str
    description: str
    handler: CredentialHandler


class TrawlAuthenticationMiddleware(JWTAuthenticationMiddleware):
    def __init__(self, *, credentials: Sequence[Credential] = (), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.credentials = tuple(credentials)

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        for credential in self.credentials:
            value = connection.headers.get(credential.header)
            if value:
                caller = await credential.handler(value, connection)
                if caller is None:
                    raise NotAuthorizedException(f"invalid {credential.header}")
                return AuthenticationResult(user=caller, auth=credential.header)
        scheme, _, token = connection.headers.get(self.auth_header, "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorizedException("no credentials")
        return await self.authenticate_token(encoded_token=token.strip(), connection=connection)


@dataclass
class TrawlJWTAuth(JWTAuth[Caller, Token]):
    """JWTAuth plus the credential headers its middleware tries first."""

    credentials: Sequence[Credential] = field(default=())
    authentication_middleware_class: type[JWTAuthenticationMiddleware] = field(
        default=TrawlAuthenticationMiddleware
    )

    @property
    def middleware(self) -> DefineMiddleware:
        define = super().middleware
        define.kwargs["credentials"] = self.credentials
        return define

    @property
    def openapi_components(self) -> Components:
        components = super().openapi_components
        schemes = dict(components.security_schemes or {})
        for credential in self.credentials:
            schemes[credential.scheme_name] = SecurityScheme(
                type="apiKey",
                name=credential.header,
                security_scheme_in="header",
                description=credential.description,
            )
        components.security_schemes = schemes
        return components

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        app_config = super().on_app_init(app_config)
        if app_config.openapi_config and isinstance(app_config.openapi_config.security, list):
            # Alternatives: a bearer token OR any of the credential headers.
            app_config.openapi_config.security.extend(
                {credential.scheme_name: []} for credential in self.credentials
            )
        return app_config
