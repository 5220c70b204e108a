"""The scheduler: which events ask for pipeline work, as a projection over the log.

- a URL is fetched when it is Added, Revived, or a fetch is scheduled
  (FetchScheduled, with its `not_before`);
- a URL whose fetch settled (Chunked, Unchanged) is refreshed after its
  project's `refresh_interval_seconds`, when the project has one;
- a project's URLs are re-chunked when its chunking changes, vectorized
  again when its embedding model changes, refreshed one
  interval after the interval is turned on, and their postponed fetches are
  woken when it is restored.

The projection keeps each URL's host and project (table `scheduler_urls`),
since only `Added` carries the URL, so a fetch job can be queued under its
host (per-host politeness), and each project's refresh interval
(`scheduler_projects`). `requests()` says what to enqueue for an event; the
adapter enqueues it in the projector's batch transaction, so each request is
queued exactly once, with the position.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import urlsplit
from uuid import UUID

from eventsourcing.domain import DomainEventProtocol

from application.projections.base import Key, Projection, Rows, dispatchmethod, topics_of
from domain.projects.aggregate import Project
from domain.urls.aggregate import Url

TABLE = "scheduler_urls"
PROJECTS = "scheduler_projects"
FETCH, CHUNK, REFRESH, WAKE = "fetch", "chunk", "refresh", "wake"
VECTORIZE = "vectorize"


class JobRequest(NamedTuple):
    """One job for one URL (`subject`), or for every URL of a project (`project_id`)."""

    kind: str  # fetch, chunk, refresh; or wake: make the project's waiting fetches due
    subject: UUID | None = None
    host: str | None = None
    not_before: datetime | None = None
    project_id: UUID | None = None


def host_of(url: str) -> str | None:
    return urlsplit(url).hostname


class SchedulerProjection(Projection):
    name = "scheduler"
    topics = topics_of(
        Url.Added,
        Url.Revived,
        Url.FetchScheduled,
        Url.Chunked,
        Url.Unchanged,
        Project.Created,
        Project.RefreshIntervalChanged,
        Project.ChunkingChanged,
        Project.EmbeddingModelChanged,
        Project.Restored,
        Project.Deleted,
    )

    def keys(self, event: DomainEventProtocol[Any]) -> list[tuple[str, Key]]:
        if isinstance(event, Url.Added | Project.Created):
            return []
        if isinstance(event, Project.Event):
            return [(PROJECTS, (event.originator_id,))]
        return [(TABLE, (event.originator_id,))]

    @dispatchmethod
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
    def project_created(self, event: Project.Created, rows: Rows) -> None:
        rows.put(PROJECTS, (event.originator_id,), {"id": event.originator_id, "refresh": None})

    @process.register
    def interval_changed(self, event: Project.RefreshIntervalChanged, rows: Rows) -> None:
        key = (event.originator_id,)
        rows.put(
            PROJECTS, key, {"id": event.originator_id, "refresh": event.refresh_interval_seconds}
        )

    @process.register
    def project_deleted(self, event: Project.Deleted, rows: Rows) -> None:
        rows.delete(PROJECTS, (event.originator_id,))
        rows.delete_all(TABLE, "project_id", event.originator_id)


def requests(event: DomainEventProtocol[Any], rows: Rows) -> list[JobRequest]:
    """The jobs an event asks for (after `SchedulerProjection.process`)."""
    if isinstance(event, Project.Event):
        return _project_requests(event)
    if isinstance(event, Url.Added | Url.Revived | Url.FetchScheduled):
        row = rows.get(TABLE, (event.originator_id,))
        host = row["host"] if row else None
        not_before = event.not_before if isinstance(event, Url.FetchScheduled) else None
        return [JobRequest(FETCH, event.originator_id, host, not_before)]
    if isinstance(event, Url.Chunked | Url.Unchanged):
        row = rows.get(TABLE, (event.originator_id,))
        project = rows.get(PROJECTS, (row["project_id"],)) if row else None
        if project is None or project["refresh"] is None:
            return []
        due = event.timestamp + timedelta(seconds=project["refresh"])
        return [JobRequest(REFRESH, event.originator_id, None, due)]
    return []


def _project_requests(event: Any) -> list[JobRequest]:
    if isinstance(event, Project.ChunkingChanged):
        return [JobRequest(CHUNK, project_id=event.originator_id)]
    if isinstance(event, Project.EmbeddingModelChanged):
        # Vectorized again with the new model; search switches when complete.
        return [JobRequest(VECTORIZE, project_id=event.originator_id)]
    if isinstance(event, Project.RefreshIntervalChanged) and event.refresh_interval_seconds:
        due = event.timestamp + timedelta(seconds=event.refresh_interval_seconds)
        return [JobRequest(REFRESH, not_before=due, project_id=event.originator_id)]
    if isinstance(event, Project.Restored):
        return [JobRequest(WAKE, project_id=event.originator_id)]
    return []
