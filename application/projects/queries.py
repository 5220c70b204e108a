"""Queries of the projects area, answered from the projects read model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol
from uuid import UUID

from application import access
from application.auth.principal import Caller
from application.store import InvalidRequest, NotFound
from domain.urls.values import STATUSES

MAX_PAGE = 100


@dataclass(frozen=True)
class ProjectView:
    id: UUID
    owner_id: UUID
    name: str
    description: str
    status: str
    chunk_size: int
    chunk_overlap: int
    refresh_interval_seconds: int | None
    embedding_model: str
    version: int
    created_at: datetime
    updated_at: datetime
    role: str = access.OWNER
    # URLs per status (the project view only; lists leave it empty).
    url_counts: dict[str, int] = field(default_factory=dict)

    def with_role(self, role: str) -> ProjectView:
        return replace(self, role=role)


@dataclass(frozen=True)
class Page:
    items: list[ProjectView]
    next_cursor: str | None


class ProjectsView(Protocol):
    """The projects read model (a Postgres table in production)."""

    def get(self, project_id: UUID) -> ProjectView | None: ...

    def visible_to(self, principal: str, limit: int, after: UUID | None) -> list[ProjectView]:
        """Projects a principal (`user:<id>`) owns or was granted, ordered by id,
        after the given id, each with the principal's role."""
        ...


class ProjectQueries:
    def __init__(
        self,
        view: ProjectsView,
        policy: access.AccessPolicy,
        url_counts: Callable[[UUID], dict[str, int]] = lambda _: {},
    ) -> None:
        self.view = view
        self.policy = policy
        self.url_counts = url_counts  # the urls view's counts by status

    def get(self, caller: Caller, project_id: UUID) -> ProjectView:
        """One project the caller can see; NotFound otherwise (no leak)."""
        project = self.view.get(project_id)
        if project is None:
            raise NotFound("project not found")
        known = access.ProjectAccess(project.owner_id, project.status)
        role = self.policy.require(caller, project_id, access.VIEWER, known)
        counts = self.url_counts(project_id)
        return replace(project, role=role, url_counts={s: counts.get(s, 0) for s in STATUSES})

    def list(self, caller: Caller, limit: int = 50, cursor: str | None = None) -> Page:
        """Projects the caller owns or was granted, a page at a time (cursor =
        last id seen). Share-link holders list nothing: links are not listed."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE}")
        after = _parse_cursor(cursor)
        if caller.user_id is None:
            return Page([], None)
        items = self.view.visible_to(caller.principal_key, limit + 1, after)
        next_cursor = str(items[limit - 1].id) if len(items) > limit else None
        return Page(items[:limit], next_cursor)


def _parse_cursor(cursor: str | None) -> UUID | None:
    if not cursor:
        return None
    try:
        return UUID(cursor)
    except ValueError:
        raise InvalidRequest("cursor is not valid") from None
