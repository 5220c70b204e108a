"""Use cases of the projects area (owner-only changes)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
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
from domain.projects.settings import DEFAULT_EMBEDDING_MODEL, check_new_embedding_model
from domain.vectorization import models


class _Unset:
    """A field the request left out (as opposed to an explicit null)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


class PreconditionFailed(VersionConflict):
    """`If-Match` named another version than the current one: HTTP 412."""

    slug = "version-conflict"


class ProjectCommands:
    def __init__(
        self,
        store: TrawlStore,
        policy: access.AccessPolicy,
        default_model: str = DEFAULT_EMBEDDING_MODEL,
        usable_model: Callable[[str], bool] = lambda _: True,
    ) -> None:
        self.store = store
        self.policy = policy
        check_new_embedding_model(default_model)  # a bad deployment default fails at start
        self.default_model = default_model
        self.usable_model = usable_model  # the deployment has what the model needs

    def create(
        self,
        caller: Caller,
        name: str,
        description: str = "",
        idempotency: IdempotencyRequest | None = None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        project = Project.create(
            caller.context(correlation_id),
            uuid.uuid4(),
            caller.account,
            name,
            description,
            embedding_model=self.default_model,
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

    def change_settings(
        self,
        caller: Caller,
        project_id: UUID,
        changes: dict[str, Any],
        expected_version: int | None = None,
        idempotency: IdempotencyRequest | None = None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        """Owner: change chunk_size, chunk_overlap, refresh_interval_seconds (None = off)
        and/or embedding_model; fields left out (UNSET) stay. A chunking change
        re-chunks the project's URLs, a model change re-vectorizes them."""
        ctx = caller.context(correlation_id)

        def change(project: Project) -> None:
            given = {k: v for k, v in changes.items() if v is not UNSET}
            wanted = replace(project.settings, **given)
            model = wanted.embedding_model
            if model != project.settings.embedding_model and not self.usable_model(model):
                raise models.ModelUnavailable(f"this deployment cannot embed with {model}")
            project.change_settings(ctx, wanted)

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
