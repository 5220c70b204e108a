"""Share queries (owner): a project's shares and its links, never their tokens.

Both read the `access` view, so `X-Trawl-Wait-For` a grant's or a
revocation's position reads it back.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from application.auth.principal import Caller
from application.shares.queries import MAX_PAGE
from interfaces.bootstrap import Trawl
from interfaces.http.consistency import WAIT_FOR, reads
from interfaces.http.security import IN_PROJECT
from interfaces.http.shares import schemas

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)]
Cursor = Annotated[str | None, QueryParameter(max_length=100)]


class ShareQueries(Controller):
    path = "/api/v1/projects/{project_id:uuid}"
    tags = ["shares"]
    parameters = WAIT_FOR
    guards = [reads("access")]
    opt = IN_PROJECT

    @get("/shares", sync_to_thread=True)
    def shares(
        self,
        project_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> schemas.SharePage:
        """Shares and pending invitations, with the grantees' emails."""
        page = trawl.share_queries.shares(caller, project_id, limit, cursor)
        return schemas.SharePage(
            items=[schemas.Share.of(row) for row in page.items], next_cursor=page.next_cursor
        )

    @get("/share-links", sync_to_thread=True)
    def links(
        self,
        project_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> schemas.LinkPage:
        """Share links with role and expiry (expired ones too; revoked ones are gone)."""
        page = trawl.share_queries.links(caller, project_id, limit, cursor)
        return schemas.LinkPage(
            items=[schemas.Link.of(row) for row in page.items], next_cursor=page.next_cursor
        )
