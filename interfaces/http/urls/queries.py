"""Url queries, answered from the `urls` view (honour X-Trawl-Wait-For)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from application.auth.principal import Caller
from application.urls.queries import MAX_PAGE
from interfaces.bootstrap import Trawl
from interfaces.http.consistency import WAIT_FOR, reads
from interfaces.http.security import IN_PROJECT
from interfaces.http.urls import schemas


class UrlQueries(Controller):
    path = "/api/v1"
    tags = ["urls"]
    parameters = WAIT_FOR
    guards = [reads("urls", "access")]  # rows, and the grants the policy checks

    @get("/projects/{project_id:uuid}/urls", sync_to_thread=True, opt=IN_PROJECT)
    def list_urls(
        self,
        project_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        status: Annotated[str | None, QueryParameter(max_length=20)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> schemas.UrlPage:
        """A project's URLs (of one status), a page at a time, with counts by status."""
        page = trawl.url_queries.list(caller, project_id, status, limit, cursor)
        return schemas.UrlPage(
            items=[schemas.Url.of(u) for u in page.items],
            next_cursor=page.next_cursor,
            counts=page.counts,
        )

    @get("/urls/{url_id:uuid}", sync_to_thread=True, opt=IN_PROJECT)
    def get_url(
        self,
        url_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
    ) -> schemas.Url:
        """One URL with its status."""
        return schemas.Url.of(trawl.url_queries.get(caller, url_id))
