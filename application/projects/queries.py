"""Queries of the projects area, answered from the projects read model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from application import access
from application.auth.principal import Caller
from application.store import InvalidRequest, NotFound

MAX_PAGE = 100


@dataclass(frozen=True)
class ProjectView:
    id: UUID
    owner_id: UUID
    name: str
    description: str
    status: str
    version: int
    created_at: datetime
    updated_at: datetime
    role: str = access.OWNER


@dataclass(frozen=True)
class Page:
    items: list[ProjectView]
    next_cursor: str | None


class ProjectsView(Protocol):
    """The projects read model (a Postgres table in production)."""

    def get(self, project_id: UUID) -> ProjectView | None: ...

    def owned_by(self, owner_id: UUID, limit: int, after: UUID | None) -> list[ProjectView]:
        """Projects of an owner ordered by id, after the given id."""
        ...


class ProjectQueries:
    def __init__(self, view: ProjectsView) -> None:
        self.view = view

    def get(self, caller: Caller, project_id: UUID) -> ProjectView:
        """One project the caller can see; NotFound otherwise (no leak)."""
        project = self.view.get(project_id)
        if project is None:
            raise NotFound("project not found")
        access.require(caller, project.owner_id, project.status == "deleted", "viewer")
        return project

    def list(self, caller: Caller, limit: int = 50, cursor: str | None = None) -> Page:
        """The caller's projects, a page at a time (cursor = last id seen)."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE}")
        after = _parse_cursor(cursor)
        items = self.view.owned_by(caller.user_id, limit + 1, after)
        next_cursor = str(items[limit - 1].id) if len(items) > limit else None
        return Page(items[:limit], next_cursor)


def _parse_cursor(cursor: str | None) -> UUID | None:
    if not cursor:
        return None
    try:
        return UUID(cursor)
    except ValueError:
        raise InvalidRequest("cursor is not valid") from None
