"""Search queries: a project's chunks by meaning and words (viewer role or a share link)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from application.auth.principal import Caller
from application.vectorization.ports import HYBRID
from application.vectorization.search import MAX_QUERY
from interfaces.bootstrap import Trawl
from interfaces.http.consistency import WAIT_FOR, reads
from interfaces.http.security import IN_PROJECT
from interfaces.http.vectorization import schemas

# Oversized queries reach the use case (a clear 400) but never unbounded.
QUERY_CAP = 4 * MAX_QUERY


class SearchQueries(Controller):
    path = "/api/v1"
    tags = ["search"]
    parameters = WAIT_FOR
    guards = [reads("search", "access")]

    @get("/projects/{project_id:uuid}/search", sync_to_thread=True, opt=IN_PROJECT)
    def search(
        self,
        project_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        q: Annotated[str, QueryParameter(max_length=QUERY_CAP)],
        k: Annotated[int, QueryParameter(ge=1, le=100)] = 10,
        mode: Annotated[str, QueryParameter(max_length=10)] = HYBRID,
        url_id: Annotated[UUID | None, QueryParameter()] = None,
    ) -> schemas.SearchAnswer:
        """The project's best `k` chunks for `q` (hybrid, vector or text), best first."""
        found = trawl.search.search(caller, project_id, q, k, mode, url_id)
        return schemas.SearchAnswer(
            items=[schemas.Hit.of(hit) for hit in found.hits], model=found.model
        )
