"""A model change queues one vectorize job per chunked or vectorized URL of the project."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from application.urls.queries import UrlView
from application.vectorization.commands import Revectorizer

pytestmark = pytest.mark.unit

PROJECT = uuid.uuid4()


class Urls:
    def __init__(self, rows: list[UrlView]) -> None:
        self.rows = sorted(rows, key=lambda row: row.id)

    def in_project(
        self, project_id: uuid.UUID, status: str | None, limit: int, after: uuid.UUID | None
    ) -> list[UrlView]:
        found = [
            r
            for r in self.rows
            if r.project_id == project_id and r.status == status and (after is None or r.id > after)
        ]
        return found[:limit]


class Queue:
    def __init__(self) -> None:
        self.jobs: list[tuple[str, uuid.UUID, dict[str, Any]]] = []

    def enqueue(self, kind: str, subject_id: uuid.UUID, payload: dict[str, Any]) -> uuid.UUID:
        self.jobs.append((kind, subject_id, dict(payload)))
        return uuid.uuid4()


def url(status: str, version: int | None, project: uuid.UUID = PROJECT) -> UrlView:
    now = datetime.now(UTC)
    return UrlView(
        uuid.uuid4(), project, "https://e.org/", status, 0, None, None, version, None, now, now
    )


def test_every_url_with_chunks_is_queued_at_its_version() -> None:
    rows = [url("vectorized", 2), url("chunked", 1), url("pending", None), url("failed", 1)]
    rows += [url("vectorized", 1, uuid.uuid4())]  # another project
    queue = Queue()

    assert Revectorizer(Urls(rows), queue).project(PROJECT) == 2  # type: ignore[arg-type]
    assert sorted((j[2]["version"], j[0]) for j in queue.jobs) == [
        (1, "vectorize"),
        (2, "vectorize"),
    ]
