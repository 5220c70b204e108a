"""The Project aggregate: a named, owned collection; archived or deleted.

Lifecycle: active <-> archived (read-only) -> deleted (terminal).
"""

from __future__ import annotations

from uuid import UUID

from domain.common import Context, TrawlAggregate
from domain.projects import errors, values
from domain.projects.settings import (
    DEFAULT_EMBEDDING_MODEL,
    ProjectSettings,
    check_new_embedding_model,
)

ACTIVE, ARCHIVED, DELETED = "active", "archived", "deleted"


class Project(TrawlAggregate):
    TOPIC = "trawl:project"

    class Created(TrawlAggregate.Created):
        TOPIC = "trawl:project.created"
        owner_id: UUID
        name: str
        description: str
        embedding_model: str

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

    class ChunkingChanged(TrawlAggregate.Event):
        """New chunk size/overlap: the project's URLs are chunked again."""

        TOPIC = "trawl:project.chunking_changed"
        chunk_size: int
        chunk_overlap: int

        def apply(self, aggregate: Project) -> None:
            aggregate.chunk_size, aggregate.chunk_overlap = self.chunk_size, self.chunk_overlap

    class RefreshIntervalChanged(TrawlAggregate.Event):
        """Periodic conditional re-fetches every so many seconds (None: off)."""

        TOPIC = "trawl:project.refresh_interval_changed"
        refresh_interval_seconds: int | None

        def apply(self, aggregate: Project) -> None:
            aggregate.refresh_interval_seconds = self.refresh_interval_seconds

    class EmbeddingModelChanged(TrawlAggregate.Event):
        """Another embedding model: the project's URLs are vectorized again."""

        TOPIC = "trawl:project.embedding_model_changed"
        embedding_model: str

        def apply(self, aggregate: Project) -> None:
            aggregate.embedding_model = self.embedding_model

    def __init__(
        self,
        owner_id: UUID,
        name: str,
        description: str,
        embedding_model: str = DEFAULT_EMBEDDING_MODEL,
        **_: object,
    ):
        self.owner_id = owner_id
        self.name = name
        self.description = description
        self.status = ACTIVE
        # Plain attributes (snapshots hold them as they are); see `settings`.
        defaults = ProjectSettings(embedding_model=embedding_model)
        self.chunk_size, self.chunk_overlap = defaults.chunk_size, defaults.chunk_overlap
        self.refresh_interval_seconds: int | None = None
        self.embedding_model = embedding_model

    @property
    def settings(self) -> ProjectSettings:
        return ProjectSettings(
            self.chunk_size, self.chunk_overlap, self.refresh_interval_seconds, self.embedding_model
        )

    @classmethod
    def create(
        cls,
        ctx: Context,
        project_id: UUID,
        owner_id: UUID,
        name: str,
        description: str = "",
        embedding_model: str = DEFAULT_EMBEDDING_MODEL,
    ) -> Project:
        check_new_embedding_model(embedding_model)
        return cls._create(
            cls.Created,
            id=project_id,
            owner_id=owner_id,
            name=values.normalize_name(name),
            description=values.normalize_description(description),
            embedding_model=embedding_model,
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

    def change_settings(self, ctx: Context, wanted: ProjectSettings) -> list[str]:
        """Record what differs from the current settings; the names of what changed."""
        self.check_writable()
        now, changed = self.settings, []
        if (wanted.chunk_size, wanted.chunk_overlap) != (now.chunk_size, now.chunk_overlap):
            self._emit(
                self.ChunkingChanged,
                ctx,
                chunk_size=wanted.chunk_size,
                chunk_overlap=wanted.chunk_overlap,
            )
            changed.append("chunking")
        if wanted.refresh_interval_seconds != now.refresh_interval_seconds:
            self._emit(
                self.RefreshIntervalChanged,
                ctx,
                refresh_interval_seconds=wanted.refresh_interval_seconds,
            )
            changed.append("refresh_interval")
        if wanted.embedding_model != now.embedding_model:
            check_new_embedding_model(wanted.embedding_model)
            self._emit(self.EmbeddingModelChanged, ctx, embedding_model=wanted.embedding_model)
            changed.append("embedding_model")
        return changed

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
