"""The scheduler: which events ask for a fetch, as a projection over the log.

A URL is fetched when it is Added, Revived, or a fetch is scheduled
(FetchScheduled, with its `not_before`). The projection keeps each URL's host
(table `scheduler_urls`), since only `Added` carries the URL, so a fetch job
can be queued under its host (per-host politeness). `fetch_request()` says
what to enqueue for an event; the adapter enqueues it in the projector's
batch transaction, so each request is queued exactly once, with the position.
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any, NamedTuple
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from application.projections.base import Key, Projection, Rows
from domain.projects.aggregate import Project
from domain.urls.aggregate import Url

TABLE = "scheduler_urls"


class FetchRequest(NamedTuple):
    url_id: UUID
    host: str | None
    not_before: datetime | None


def host_of(url: str) -> str | None:
    return urlsplit(url).hostname


class SchedulerProjection(Projection):
    name = "scheduler"
    topics = (
        getattr(Url.Added, "TOPIC"),  # noqa: B009
        getattr(Url.Revived, "TOPIC"),  # noqa: B009
        getattr(Url.FetchScheduled, "TOPIC"),  # noqa: B009
        getattr(Project.Deleted, "TOPIC"),  # noqa: B009
    )

    def keys(self, event: DomainEventProtocol[Any]) -> list[tuple[str, Key]]:
        if isinstance(event, Url.Added | Project.Deleted):
            return []
        return [(TABLE, (event.originator_id,))]

    @singledispatchmethod
    def process(self, event: DomainEventProtocol[Any], rows: Rows) -> None:
        """Events of no interest change nothing."""

    @process.register
    def added(self, event: Url.Added, rows: Rows) -> None:
        rows.put(
            TABLE,
            (event.originator_id,),
            {"id": event.originator_id, "project_id": event.project_id, "host": host_of(event.url)},
        )

    @process.register
    def project_deleted(self, event: Project.Deleted, rows: Rows) -> None:
        # A deleted project's URLs leave every view (the audit's deletion report).
        rows.delete_all(TABLE, "project_id", event.originator_id)


def fetch_request(event: DomainEventProtocol[Any], rows: Rows) -> FetchRequest | None:
    """The fetch an event asks for, if any (after `SchedulerProjection.process`)."""
    if isinstance(event, Url.Added | Url.Revived | Url.FetchScheduled):
        row = rows.get(TABLE, (event.originator_id,))
        host = row["host"] if row else None
        not_before = event.not_before if isinstance(event, Url.FetchScheduled) else None
        return FetchRequest(event.originator_id, host, not_before)
    return None
