"""Url queries: the list and one URL from the `urls` view (honour X-Trawl-Wait-For);
versions, chunks and text from the Url itself (always current)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, MediaType, Response, get
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

    @get("/urls/{url_id:uuid}/versions", sync_to_thread=True, opt=IN_PROJECT)
    def versions(
        self, url_id: FromPath[UUID], caller: NamedDependency[Caller], trawl: NamedDependency[Trawl]
    ) -> schemas.Versions:
        """Every content version fetched for the URL (a version per distinct content)."""
        found = trawl.url_details.versions(caller, url_id)
        return schemas.Versions(items=[schemas.Version.of(v) for v in found])

    @get("/urls/{url_id:uuid}/chunks", sync_to_thread=True, opt=IN_PROJECT)
    def chunks(
        self,
        url_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        version: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> schemas.Chunks:
        """The chunks of the current (or given) version: text, ordinal, offsets."""
        return schemas.Chunks.of(trawl.url_details.chunks(caller, url_id, version))

    @get(
        "/urls/{url_id:uuid}/text",
        sync_to_thread=True,
        opt=IN_PROJECT,
        media_type=MediaType.TEXT,
    )
    def text(
        self,
        url_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        version: Annotated[int | None, QueryParameter(ge=1)] = None,
    ) -> Response[str]:
        """The extracted main text of the current (or given) version, as text/plain."""
        number, text = trawl.url_details.text(caller, url_id, version)
        return Response(
            text,
            media_type="text/plain; charset=utf-8",
            headers={"X-Trawl-Version": str(number)},
        )
