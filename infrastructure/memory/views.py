"""In-memory read models for unit tests: projections applied synchronously.

`MemoryViews.catch_up()` applies every new event of the in-memory log to
dict rows; queries call it first, so unit tests read their own writes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from application.access import ProjectAccess
from application.projections.base import DictRows, Projection
from application.projects.queries import ProjectView
from application.shares.queries import LinkRow, ShareRow
from application.store import TrawlStore
from application.urls.queries import UrlView


class MemoryViews:
    def __init__(self, store: TrawlStore, projections: Sequence[Projection]) -> None:
        self.store = store
        self.projections = list(projections)
        self.rows = DictRows()
        self.position = 0
        self._lock = threading.Lock()

    def catch_up(self) -> None:
        with self._lock:
            for notification in self.store.recorder.select_notifications(
                self.position + 1, limit=1_000_000
            ):
                event = self.store.mapper.to_domain_event(notification)
                for projection in self.projections:
                    if notification.topic in projection.topics:
                        projection.process(event, self.rows)
                self.position = notification.id

    # PositionWaiter
    def positions(self) -> dict[str, int]:
        self.catch_up()
        return {p.name: self.position for p in self.projections}

    def wait(self, views: Sequence[str], position: int, timeout: float) -> bool:
        self.catch_up()
        return self.position >= position

    async def wait_async(self, views: Sequence[str], position: int, timeout: float) -> bool:
        await asyncio.sleep(0)
        return self.wait(views, position, timeout)


class MemoryProjectsView:
    def __init__(self, views: MemoryViews) -> None:
        self.views = views

    def _table(self, name: str) -> list[dict[str, Any]]:
        self.views.catch_up()
        return list(self.views.rows.tables.get(name, {}).values())

    def get(self, project_id: UUID) -> ProjectView | None:
        self.views.catch_up()
        row = self.views.rows.get("projects", (project_id,))
        return ProjectView(**row) if row else None

    def visible_to(self, principal: str, limit: int, after: UUID | None) -> list[ProjectView]:
        grants = {
            g["project_id"]: g["role"]
            for g in self._table("access_grants")
            if g["principal"] == principal
        }
        rows = [
            ProjectView(**row, role=grants[row["id"]])
            for row in self._table("projects")
            if row["id"] in grants and (after is None or row["id"] > after)
        ]
        return sorted(rows, key=lambda p: p.id)[:limit]


class MemoryAccessView:
    """`AccessView` and the owner's lists over the in-memory access tables."""

    def __init__(self, views: MemoryViews) -> None:
        self.views = views

    def _row(self, table: str, key: tuple[Any, ...]) -> dict[str, Any] | None:
        self.views.catch_up()
        return self.views.rows.get(table, key)

    def project(self, project_id: UUID) -> ProjectAccess | None:
        row = self._row("access_projects", (project_id,))
        return ProjectAccess(row["owner_id"], row["status"]) if row else None

    def role(self, project_id: UUID, principal: str) -> str | None:
        row = self._row("access_grants", (project_id, principal))
        return str(row["role"]) if row else None

    def shares(self, project_id: UUID, limit: int, after: UUID | None) -> list[ShareRow]:
        rows = self._select("share_list", project_id, after)[:limit]
        return [
            ShareRow(r["id"], r["kind"], r["grantee_id"], r["role"], r["created_at"]) for r in rows
        ]

    def links(self, project_id: UUID, limit: int, after: UUID | None) -> list[LinkRow]:
        rows = self._select("link_list", project_id, after)[:limit]
        return [LinkRow(r["id"], r["role"], r["expires_at"], r["created_at"]) for r in rows]

    def _select(self, table: str, project_id: UUID, after: UUID | None) -> list[dict[str, Any]]:
        self.views.catch_up()
        rows = [
            r
            for r in self.views.rows.tables.get(table, {}).values()
            if r["project_id"] == project_id and (after is None or r["id"] > after)
        ]
        return sorted(rows, key=lambda r: r["id"])


_URL_FIELDS = (
    "id",
    "project_id",
    "url",
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "version",
    "title",
    "added_at",
    "updated_at",
)


def _url_view(row: dict[str, Any]) -> UrlView:
    return UrlView(**{name: row[name] for name in _URL_FIELDS})


class MemoryUrlsView:
    """`UrlsView` over the in-memory `urls` table."""

    def __init__(self, views: MemoryViews) -> None:
        self.views = views

    def _project(self, project_id: UUID) -> list[dict[str, Any]]:
        self.views.catch_up()
        rows = self.views.rows.tables.get("urls", {}).values()
        return sorted((r for r in rows if r["project_id"] == project_id), key=lambda r: r["id"])

    def get(self, url_id: UUID) -> UrlView | None:
        self.views.catch_up()
        row = self.views.rows.get("urls", (url_id,))
        return _url_view(row) if row else None

    def in_project(
        self, project_id: UUID, status: str | None, limit: int, after: UUID | None
    ) -> list[UrlView]:
        rows = [
            r
            for r in self._project(project_id)
            if (status is None or r["status"] == status) and (after is None or r["id"] > after)
        ]
        return [_url_view(r) for r in rows[:limit]]

    def counts(self, project_id: UUID) -> dict[str, int]:
        found: dict[str, int] = {}
        for row in self._project(project_id):
            found[row["status"]] = found.get(row["status"], 0) + 1
        return found
