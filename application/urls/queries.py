"""Queries of the urls area, answered from the `urls` read model (viewer role)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from application import access
from application.auth.principal import Caller
from application.store import InvalidRequest, NotFound
from domain.urls.values import STATUSES

MAX_PAGE = 100


@dataclass(frozen=True)
class UrlView:
    id: UUID
    project_id: UUID
    url: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    version: int | None
    title: str | None
    added_at: datetime
    updated_at: datetime
    indexed: bool = False


@dataclass(frozen=True)
class UrlPage:
    items: list[UrlView]
    next_cursor: str | None
    counts: dict[str, int]


class UrlsView(Protocol):
    """The urls read model (a Postgres table in production)."""

    def get(self, url_id: UUID) -> UrlView | None: ...

    def in_project(
        self, project_id: UUID, status: str | None, limit: int, after: UUID | None
    ) -> list[UrlView]:
        """A project's URLs (of one status, if given), ordered by id, after the given id."""
        ...

    def counts(self, project_id: UUID) -> dict[str, int]:
        """How many of a project's URLs have each status (statuses with none left out)."""
        ...


class UrlQueries:
    def __init__(self, view: UrlsView, policy: access.AccessPolicy) -> None:
        self.view = view
        self.policy = policy

    def list(
        self,
        caller: Caller,
        project_id: UUID,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> UrlPage:
        """A page of a project's URLs (cursor = last id seen), with counts by status."""
        self.policy.require(caller, project_id, access.VIEWER)
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE}")
        if status is not None and status not in STATUSES:
            raise InvalidRequest(f"status must be one of {', '.join(STATUSES)}")
        after = _parse_cursor(cursor)
        items = self.view.in_project(project_id, status, limit + 1, after)
        next_cursor = str(items[limit - 1].id) if len(items) > limit else None
        return UrlPage(items[:limit], next_cursor, self.counts(caller, project_id))

    def counts(self, caller: Caller, project_id: UUID) -> dict[str, int]:
        """Every status of the vocabulary with how many of the project's URLs have it."""
        self.policy.require(caller, project_id, access.VIEWER)
        found = self.view.counts(project_id)
        return {status: found.get(status, 0) for status in STATUSES}

    def get(self, caller: Caller, url_id: UUID) -> UrlView:
        """One URL the caller can see (through its project); NotFound otherwise."""
        url = self.view.get(url_id)
        if url is None:
            raise NotFound("url not found")
        try:
            self.policy.require(caller, url.project_id, access.VIEWER)
        except NotFound:
            raise NotFound("url not found") from None
        return url


def _parse_cursor(cursor: str | None) -> UUID | None:
    if not cursor:
        return None
    try:
        return UUID(cursor)
    except ValueError:
        raise InvalidRequest("cursor is not valid") from None
