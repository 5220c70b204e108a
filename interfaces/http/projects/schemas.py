"""Bodies of the projects routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec

from application.projects.queries import ProjectView
from interfaces.http.schemas import Description, Name, Schema

MODEL_CAP = 200


class CreateProject(Schema):
    name: Name
    description: Description = ""


class UpdateProject(Schema):
    """Fields left out (or null) stay as they are."""

    name: Name | None = None
    description: Description | None = None


class UpdateSettings(Schema):
    """Fields left out stay as they are; `refresh_interval_seconds: null` turns refresh off."""

    chunk_size: int | msgspec.UnsetType = msgspec.UNSET
    chunk_overlap: int | msgspec.UnsetType = msgspec.UNSET
    refresh_interval_seconds: int | msgspec.UnsetType | None = msgspec.UNSET
    embedding_model: Annotated[str, msgspec.Meta(max_length=MODEL_CAP)] | msgspec.UnsetType = (
        msgspec.UNSET
    )

    def changes(self, unset: Any) -> dict[str, Any]:
        """Every field, with `unset` for those left out."""
        values = {name: getattr(self, name) for name in self.__struct_fields__}
        return {name: unset if v is msgspec.UNSET else v for name, v in values.items()}


class Settings(Schema):
    chunk_size: int
    chunk_overlap: int
    refresh_interval_seconds: int | None
    embedding_model: str


class Project(Schema):
    id: UUID
    name: str
    description: str
    status: str
    version: int
    role: str
    owner_id: UUID
    created_at: datetime
    updated_at: datetime
    settings: Settings
    # URLs per status; only on the one-project answer (empty in lists).
    url_counts: dict[str, int]

    @classmethod
    def of(cls, view: ProjectView) -> Project:
        return cls(
            id=view.id,
            name=view.name,
            description=view.description,
            status=view.status,
            version=view.version,
            role=view.role,
            owner_id=view.owner_id,
            created_at=view.created_at,
            updated_at=view.updated_at,
            settings=Settings(
                chunk_size=view.chunk_size,
                chunk_overlap=view.chunk_overlap,
                refresh_interval_seconds=view.refresh_interval_seconds,
                embedding_model=view.embedding_model,
            ),
            url_counts=view.url_counts,
        )


class ProjectPage(Schema):
    items: list[Project]
    next_cursor: str | None
