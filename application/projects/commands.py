"""Use cases of the projects area (owner-only changes)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application import access
from application.auth.principal import Caller
from application.store import (
    CommandResult,
    IdempotencyRequest,
    TrawlStore,
    VersionConflict,
)
from domain.common import Context
from domain.projects.aggregate import Project


class PreconditionFailed(VersionConflict):
    """`If-Match` named another version than the current one: HTTP 412."""

    slug = "version-conflict"


class ProjectCommands:
    def __init__(self, store: TrawlStore, policy: access.AccessPolicy) -> None:
        self.store = store
        self.policy = policy

    def create(
        self,
        caller: Caller,
        name: str,
        description: str = "",
        idempotency: IdempotencyRequest | None = None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        project = Project.create(
            caller.context(correlation_id), uuid.uuid4(), caller.account, name, description
        )
        return self.store.commit(project, idempotency=idempotency)

    def update(
        self,
        caller: Caller,
        project_id: UUID,
        name: str | None = None,
        description: str | None = None,
        expected_version: int | None = None,
        idempotency: IdempotencyRequest | None = None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        """Rename and/or change the description (unchanged values write nothing)."""
        ctx = caller.context(correlation_id)

        def change(project: Project) -> None:
            if name is not None:
                project.rename(ctx, name)
            if description is not None:
                project.change_description(ctx, description)

        return self._run(caller, project_id, change, expected_version, idempotency)

    def archive(self, caller: Caller, project_id: UUID, **options: Any) -> CommandResult:
        """Make the project read-only until restored."""
        return self._lifecycle(caller, project_id, Project.archive, **options)

    def restore(self, caller: Caller, project_id: UUID, **options: Any) -> CommandResult:
        return self._lifecycle(caller, project_id, Project.restore, **options)

    def delete(self, caller: Caller, project_id: UUID, **options: Any) -> CommandResult:
        """Terminal: 404 on every route afterwards (history stays for audit)."""
        return self._lifecycle(caller, project_id, Project.delete, **options)

    def _lifecycle(
        self,
        caller: Caller,
        project_id: UUID,
        method: Callable[[Project, Context], None],
        expected_version: int | None = None,
        idempotency: IdempotencyRequest | None = None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        ctx = caller.context(correlation_id)
        return self._run(
            caller, project_id, lambda p: method(p, ctx), expected_version, idempotency
        )

    def _run(
        self,
        caller: Caller,
        project_id: UUID,
        change: Callable[[Project], None],
        expected_version: int | None,
        idempotency: IdempotencyRequest | None,
    ) -> CommandResult:
        def command() -> CommandResult:
            project = self.store.load(Project, project_id)
            self.policy.require(caller, project_id, access.OWNER, _access_of(project))
            if expected_version is not None and expected_version != project.version:
                raise PreconditionFailed(
                    f"project is at version {project.version}, not {expected_version}"
                )
            change(project)
            return self.store.commit(project, idempotency=idempotency)

        if expected_version is None:
            return self.store.retrying(command)
        try:
            return command()
        except IntegrityError:
            raise PreconditionFailed("project changed meanwhile") from None


def _access_of(project: Project) -> access.ProjectAccess:
    return access.ProjectAccess(project.owner_id, project.status)
