"""Bodies of the projects routes."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from application.projects.queries import ProjectView
from interfaces.http.schemas import Description, Name, Schema


class CreateProject(Schema):
    name: Name
    description: Description = ""


class UpdateProject(Schema):
    """Fields left out (or null) stay as they are."""

    name: Name | None = None
    description: Description | None = None


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
        )


class ProjectPage(Schema):
    items: list[Project]
    next_cursor: str | None
