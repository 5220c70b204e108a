"""The projects read model: one row per live project."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import DomainEventProtocol

from application.projections.base import Key, Projection, Rows, dispatchmethod
from domain.common import event_classes
from domain.projects.aggregate import Project
from domain.projects.settings import ProjectSettings

DEFAULTS = ProjectSettings()

TABLE = "projects"


class ProjectsProjection(Projection):
    name = "projects"
    topics = tuple(getattr(cls, "TOPIC") for cls in event_classes(Project))  # noqa: B009

    def keys(self, event: DomainEventProtocol[Any]) -> list[tuple[str, Key]]:
        if isinstance(event, Project.Created):  # writes a new row: nothing to read
            return []
        return [(TABLE, (event.originator_id,))]

    def _touch(self, event: Any, rows: Rows, **changes: Any) -> None:
        key = (event.originator_id,)
        row = rows.get(TABLE, key)
        if row is None:  # never created in this view: nothing to change
            return
        row.update(changes, version=event.originator_version, updated_at=event.timestamp)
        rows.put(TABLE, key, row)

    @dispatchmethod
    def process(self, event: DomainEventProtocol[Any], rows: Rows) -> None:
        """Events of no interest change nothing."""

    @process.register
    def created(self, event: Project.Created, rows: Rows) -> None:
        rows.put(
            TABLE,
            (event.originator_id,),
            {
                "id": event.originator_id,
                "owner_id": event.owner_id,
                "name": event.name,
                "description": event.description,
                "status": "active",
                "chunk_size": DEFAULTS.chunk_size,
                "chunk_overlap": DEFAULTS.chunk_overlap,
                "refresh_interval_seconds": None,
                "embedding_model": getattr(event, "embedding_model", DEFAULTS.embedding_model),
                "version": event.originator_version,
                "created_at": event.timestamp,
                "updated_at": event.timestamp,
            },
        )

    @process.register
    def renamed(self, event: Project.Renamed, rows: Rows) -> None:
        self._touch(event, rows, name=event.name)

    @process.register
    def description_changed(self, event: Project.DescriptionChanged, rows: Rows) -> None:
        self._touch(event, rows, description=event.description)

    @process.register
    def chunking_changed(self, event: Project.ChunkingChanged, rows: Rows) -> None:
        self._touch(event, rows, chunk_size=event.chunk_size, chunk_overlap=event.chunk_overlap)

    @process.register
    def refresh_interval_changed(self, event: Project.RefreshIntervalChanged, rows: Rows) -> None:
        self._touch(event, rows, refresh_interval_seconds=event.refresh_interval_seconds)

    @process.register
    def embedding_model_changed(self, event: Project.EmbeddingModelChanged, rows: Rows) -> None:
        self._touch(event, rows, embedding_model=event.embedding_model)

    @process.register
    def archived(self, event: Project.Archived, rows: Rows) -> None:
        self._touch(event, rows, status="archived")

    @process.register
    def restored(self, event: Project.Restored, rows: Rows) -> None:
        self._touch(event, rows, status="active")

    @process.register
    def deleted(self, event: Project.Deleted, rows: Rows) -> None:
        rows.delete(TABLE, (event.originator_id,))
