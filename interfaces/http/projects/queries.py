"""Project queries, answered from the `projects` view (honour X-Trawl-Wait-For)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from application.auth.principal import Caller
from application.projects.queries import MAX_PAGE
from interfaces.bootstrap import Trawl
from interfaces.http.consistency import WAIT_FOR, reads
from interfaces.http.dependencies import etag
from interfaces.http.projects import schemas
from interfaces.http.security import IN_PROJECT


class ProjectQueries(Controller):
    path = "/api/v1/projects"
    tags = ["projects"]
    parameters = WAIT_FOR
    guards = [reads("projects", "access")]  # rows, and the grants the policy checks

    @get(sync_to_thread=True)
    def list_projects(
        self,
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=100)] = None,
    ) -> schemas.ProjectPage:
        """The caller's projects, a page at a time (`next_cursor` until the end)."""
        page = trawl.project_queries.list(caller, limit, cursor)
        return schemas.ProjectPage(
            items=[schemas.Project.of(p) for p in page.items], next_cursor=page.next_cursor
        )

    @get("/{project_id:uuid}", sync_to_thread=True, opt=IN_PROJECT)
    def get_project(
        self,
        project_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
    ) -> Response[schemas.Project]:
        project = trawl.project_queries.get(caller, project_id)
        return Response(schemas.Project.of(project), headers={"ETag": etag(project.version)})
