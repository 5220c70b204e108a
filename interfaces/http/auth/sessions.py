"""Auth routes that record no event: sign in, and mail the verification again."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.params import JSONBody

from application.auth.principal import Caller
from domain.users import errors as users_errors
from domain.users import values as users_values
from interfaces.bootstrap import Trawl
from interfaces.http.auth import schemas
from interfaces.http.ratelimit import SlidingWindowLimiter
from interfaces.http.security import TokenIssuer, account_of


def login_keys(email: str, request: Request[Any, Any, Any]) -> list[str]:
    """Rate-limit keys of a sign-in: the normalized email and the client address."""
    try:
        normalized = users_values.normalize_email(email)
    except users_errors.InvalidEmail:
        normalized = email.strip().lower()
    client = request.client.host if request.client else "unknown"
    return [f"email:{normalized}", f"client:{client}"]


class Sessions(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/verify-email/resend", status_code=200, sync_to_thread=True)
    def resend_verification(
        self, caller: NamedDependency[Caller], trawl: NamedDependency[Trawl]
    ) -> schemas.Sent:
        """Mail a new verification token (false when already verified)."""
        return schemas.Sent(sent=trawl.users.send_verification(account_of(caller)))

    @post(
        "/token",
        status_code=200,
        sync_to_thread=True,
        cache_control=CacheControlHeader(no_store=True),
    )
    def token(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[schemas.TokenRequest],
        trawl: NamedDependency[Trawl],
        tokens: NamedDependency[TokenIssuer],
        token_limiter: NamedDependency[SlidingWindowLimiter],
    ) -> schemas.AccessToken:
        """Sign in: an access token for an email and password (rate limited)."""
        token_limiter.hit(login_keys(data.email, request))
        principal = trawl.auth.authenticate(data.email, data.password)
        return schemas.AccessToken(
            access_token=tokens.issue(principal),
            token_type="bearer",  # noqa: S106 - the OAuth 2 token type, no secret
            expires_in=tokens.ttl_seconds,
        )
