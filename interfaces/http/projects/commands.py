"""Project commands (owner only): create, change, settings, archive, restore, delete.

Changes honour `If-Match`: a stale version is 412 `version-conflict`.
"""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, delete, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from application.auth.principal import Caller
from application.projects.commands import UNSET
from interfaces.bootstrap import Trawl
from interfaces.http.dependencies import IF_MATCH
from interfaces.http.idempotency import IDEMPOTENCY_KEY, Command
from interfaces.http.projects import schemas
from interfaces.http.schemas import CommandAnswer
from interfaces.http.security import IN_PROJECT

ONE = "/{project_id:uuid}"


class ProjectCommands(Controller):
    path = "/api/v1/projects"
    tags = ["projects"]
    parameters = {**IDEMPOTENCY_KEY, **IF_MATCH}

    @post(status_code=201, sync_to_thread=True)
    def create(
        self,
        data: JSONBody[schemas.CreateProject],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
    ) -> Response[CommandAnswer]:
        return command.run(
            lambda idem: trawl.projects.create(
                caller, data.name, data.description, idem, command.correlation_id
            ),
            CommandAnswer,
        )

    @patch(ONE, status_code=200, sync_to_thread=True, opt=IN_PROJECT)
    def update(
        self,
        project_id: FromPath[UUID],
        data: JSONBody[schemas.UpdateProject],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
        expected_version: NamedDependency[int | None],
    ) -> Response[CommandAnswer]:
        """Rename and/or describe; fields left out stay as they are."""
        return command.run(
            lambda idem: trawl.projects.update(
                caller,
                project_id,
                data.name,
                data.description,
                expected_version,
                idem,
                command.correlation_id,
            ),
            CommandAnswer,
        )

    @patch(ONE + "/settings", status_code=200, sync_to_thread=True, opt=IN_PROJECT)
    def change_settings(
        self,
        project_id: FromPath[UUID],
        data: JSONBody[schemas.UpdateSettings],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
        expected_version: NamedDependency[int | None],
    ) -> Response[CommandAnswer]:
        """Owner: chunking (re-chunks the URLs), refresh interval, embedding model."""
        return command.run(
            lambda idem: trawl.projects.change_settings(
                caller,
                project_id,
                data.changes(UNSET),
                expected_version,
                idem,
                command.correlation_id,
            ),
            CommandAnswer,
        )

    @post(ONE + "/archive", status_code=200, sync_to_thread=True, opt=IN_PROJECT)
    def archive(
        self,
        project_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
        expected_version: NamedDependency[int | None],
    ) -> Response[CommandAnswer]:
        """Make the project read-only until restored."""
        return command.run(
            lambda idem: trawl.projects.archive(
                caller,
                project_id,
                expected_version=expected_version,
                idempotency=idem,
                correlation_id=command.correlation_id,
            ),
            CommandAnswer,
        )

    @post(ONE + "/restore", status_code=200, sync_to_thread=True, opt=IN_PROJECT)
    def restore(
        self,
        project_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
        expected_version: NamedDependency[int | None],
    ) -> Response[CommandAnswer]:
        return command.run(
            lambda idem: trawl.projects.restore(
                caller,
                project_id,
                expected_version=expected_version,
                idempotency=idem,
                correlation_id=command.correlation_id,
            ),
            CommandAnswer,
        )

    @delete(ONE, status_code=200, sync_to_thread=True, opt=IN_PROJECT)
    def delete(
        self,
        project_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
        expected_version: NamedDependency[int | None],
    ) -> Response[CommandAnswer]:
        """Delete for good: the project is 404 on every route afterwards."""
        return command.run(
            lambda idem: trawl.projects.delete(
                caller,
                project_id,
                expected_version=expected_version,
                idempotency=idem,
                correlation_id=command.correlation_id,
            ),
            CommandAnswer,
        )
