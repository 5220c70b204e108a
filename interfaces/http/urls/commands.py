"""Url commands (editor): add URLs in bulk, refresh or remove one."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, delete, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from application.auth.principal import Caller
from interfaces.bootstrap import Trawl
from interfaces.http.idempotency import IDEMPOTENCY_KEY, Command
from interfaces.http.schemas import CommandAnswer
from interfaces.http.security import IN_PROJECT
from interfaces.http.urls import schemas


class UrlCommands(Controller):
    path = "/api/v1"
    tags = ["urls"]
    parameters = IDEMPOTENCY_KEY

    @post("/projects/{project_id:uuid}/urls", status_code=202, sync_to_thread=True, opt=IN_PROJECT)
    def add(
        self,
        project_id: FromPath[UUID],
        data: JSONBody[schemas.AddUrls],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
    ) -> Response[schemas.AddedUrls]:
        """Add up to 1,000 URLs: each is accepted, a duplicate, or rejected with a reason."""
        return command.run(
            lambda idem: trawl.urls.add_many(
                caller, project_id, list(data.urls), idem, command.correlation_id
            ),
            schemas.AddedUrls,
        )

    @delete("/urls/{url_id:uuid}", status_code=200, sync_to_thread=True, opt=IN_PROJECT)
    def remove(
        self,
        url_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
    ) -> Response[CommandAnswer]:
        """Remove a URL: it stays readable with status `removed` (again: 200)."""
        return command.run(
            lambda idem: trawl.urls.remove(caller, url_id, idem, command.correlation_id),
            CommandAnswer,
        )

    @post("/urls/{url_id:uuid}/refresh", status_code=202, sync_to_thread=True, opt=IN_PROJECT)
    def refresh(
        self,
        url_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
    ) -> Response[CommandAnswer]:
        """Fetch the URL again (conditionally); a changed page becomes a new version."""
        return command.run(
            lambda idem: trawl.urls.refresh(caller, url_id, idem, command.correlation_id),
            CommandAnswer,
        )
