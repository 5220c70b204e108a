"""In-memory read models for unit tests: projections applied synchronously.

`MemoryViews.catch_up()` applies every new event of the in-memory log to
dict rows; queries call it first, so unit tests read their own writes.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from uuid import UUID

from application.projections.base import DictRows, Projection
from application.projects.queries import ProjectView
from application.store import TrawlStore


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

    def _all(self) -> list[ProjectView]:
        self.views.catch_up()
        return [ProjectView(**row) for row in self.views.rows.tables.get("projects", {}).values()]

    def get(self, project_id: UUID) -> ProjectView | None:
        return next((p for p in self._all() if p.id == project_id), None)

    def owned_by(self, owner_id: UUID, limit: int, after: UUID | None) -> list[ProjectView]:
        mine = sorted((p for p in self._all() if p.owner_id == owner_id), key=lambda p: p.id)
        return [p for p in mine if after is None or p.id > after][:limit]
