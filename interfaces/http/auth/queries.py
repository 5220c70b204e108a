"""Auth queries: the caller's account and API keys (read strongly, never waits)."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.di import NamedDependency

from application.auth.principal import Caller
from interfaces.bootstrap import Trawl
from interfaces.http.auth import schemas
from interfaces.http.dependencies import etag
from interfaces.http.security import account_of


class AuthQueries(Controller):
    path = "/api/v1"
    tags = ["auth"]

    @get("/me", sync_to_thread=True)
    def me(
        self, caller: NamedDependency[Caller], trawl: NamedDependency[Trawl]
    ) -> Response[schemas.Me]:
        """The caller's own account (from the aggregate: always current)."""
        me = trawl.user_queries.me(account_of(caller))
        body = schemas.Me(
            id=me.id,
            email=me.email,
            display_name=me.display_name,
            role=me.role,
            email_verified=me.email_verified,
            created_at=me.created_at,
        )
        return Response(body, headers={"ETag": etag(me.version)})

    @get("/auth/api-keys", sync_to_thread=True)
    def api_keys(
        self, caller: NamedDependency[Caller], trawl: NamedDependency[Trawl]
    ) -> schemas.ApiKeys:
        rows = trawl.auth.list_api_keys(account_of(caller))
        return schemas.ApiKeys(
            items=[
                schemas.ApiKey(id=r.key_id, name=r.name, prefix=r.prefix, created_at=r.created_at)
                for r in rows
            ]
        )
