"""The Project aggregate: a named, owned collection; archived or deleted.

Lifecycle: active <-> archived (read-only) -> deleted (terminal).
"""

from __future__ import annotations

from uuid import UUID

from domain.common import Context, TrawlAggregate
from domain.projects import errors, values

ACTIVE, ARCHIVED, DELETED = "active", "archived", "deleted"


class Project(TrawlAggregate):
    TOPIC = "trawl:project"

    class Created(TrawlAggregate.Created):
        TOPIC = "trawl:project.created"
        owner_id: UUID
        name: str
        description: str

    class Renamed(TrawlAggregate.Event):
        TOPIC = "trawl:project.renamed"
        name: str

        def apply(self, aggregate: Project) -> None:
            aggregate.name = self.name

    class DescriptionChanged(TrawlAggregate.Event):
        TOPIC = "trawl:project.description_changed"
        description: str

        def apply(self, aggregate: Project) -> None:
            aggregate.description = self.description

    class Archived(TrawlAggregate.Event):
        TOPIC = "trawl:project.archived"

        def apply(self, aggregate: Project) -> None:
            aggregate.status = ARCHIVED

    class Restored(TrawlAggregate.Event):
        TOPIC = "trawl:project.restored"

        def apply(self, aggregate: Project) -> None:
            aggregate.status = ACTIVE

    class Deleted(TrawlAggregate.Event):
        TOPIC = "trawl:project.deleted"

        def apply(self, aggregate: Project) -> None:
            aggregate.status = DELETED

    def __init__(self, owner_id: UUID, name: str, description: str, **_: object):
        self.owner_id = owner_id
        self.name = name
        self.description = description
        self.status = ACTIVE

    @classmethod
    def create(
        cls,
        ctx: Context,
        project_id: UUID,
        owner_id: UUID,
        name: str,
        description: str = "",
    ) -> Project:
        return cls._create(
            cls.Created,
            id=project_id,
            owner_id=owner_id,
            name=values.normalize_name(name),
            description=values.normalize_description(description),
            **ctx.fields(),
        )

    @property
    def is_deleted(self) -> bool:
        return self.status == DELETED

    def check_writable(self) -> None:
        """Raise unless the project accepts changes (deleted: 404, archived: 409)."""
        if self.status == DELETED:
            raise errors.ProjectDeleted("project not found")
        if self.status == ARCHIVED:
            raise errors.ProjectArchived("project is archived: restore it first")

    def rename(self, ctx: Context, name: str) -> bool:
        """Rename; False (no event) when the name is unchanged."""
        name = values.normalize_name(name)
        self.check_writable()
        if name == self.name:
            return False
        self._emit(self.Renamed, ctx, name=name)
        return True

    def change_description(self, ctx: Context, description: str) -> bool:
        description = values.normalize_description(description)
        self.check_writable()
        if description == self.description:
            return False
        self._emit(self.DescriptionChanged, ctx, description=description)
        return True

    def archive(self, ctx: Context) -> None:
        self.check_writable()
        self._emit(self.Archived, ctx)

    def restore(self, ctx: Context) -> None:
        if self.status == DELETED:
            raise errors.ProjectDeleted("project not found")
        if self.status != ARCHIVED:
            raise errors.ProjectNotArchived("project is not archived")
        self._emit(self.Restored, ctx)

    def delete(self, ctx: Context) -> None:
        """Terminal: a deleted project is gone for every route but audit."""
        if self.status == DELETED:
            raise errors.ProjectDeleted("project not found")
        self._emit(self.Deleted, ctx)
