"""The urls read model: one row per URL of a live project, its status and progress.

Statuses follow the Url aggregate's rules, from the events' own fields; a
deleted project takes its URLs with it. Counts by status are a GROUP BY on
this table (index on project, status, id).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import DomainEventProtocol

from application.projections.base import Key, Projection, Rows, dispatchmethod
from domain.common import event_classes
from domain.projects.aggregate import Project
from domain.urls.aggregate import Url
from domain.urls.values import (
    BLOCKED,
    CHUNKED,
    EMBEDDING_FAILED,
    FAILED,
    FETCHED,
    FETCHING,
    PENDING,
    REMOVED,
    VECTORIZED,
)

TABLE = "urls"


class UrlsProjection(Projection):
    name = "urls"
    topics = (
        *(getattr(cls, "TOPIC") for cls in event_classes(Url)),  # noqa: B009
        getattr(Project.Deleted, "TOPIC"),  # noqa: B009
    )

    def keys(self, event: DomainEventProtocol[Any]) -> list[tuple[str, Key]]:
        if isinstance(event, Url.Added | Project.Event):  # new rows, or a wipe
            return []
        return [(TABLE, (event.originator_id,))]

    def _touch(self, event: Any, rows: Rows, **changes: Any) -> None:
        key = (event.originator_id,)
        row = rows.get(TABLE, key)
        if row is None:  # its project was deleted: nothing to change
            return
        row.update(changes, updated_at=event.timestamp)
        rows.put(TABLE, key, row)

    def _settle(self, event: Any, rows: Rows, status: str, **changes: Any) -> None:
        """A fetch outcome; the error stays only on `failed`."""
        if status != FAILED:
            changes.setdefault("last_error", None)
        self._touch(event, rows, status=status, **changes)

    @dispatchmethod
    def process(self, event: DomainEventProtocol[Any], rows: Rows) -> None:
        """Events of no interest change nothing."""

    @process.register
    def added(self, event: Url.Added, rows: Rows) -> None:
        rows.put(
            TABLE,
            (event.originator_id,),
            {
                "id": event.originator_id,
                "project_id": event.project_id,
                "url": event.url,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": None,
                "last_error": None,
                "version": None,
                "chunked_version": None,
                "vectorized_version": None,
                "vectors_keys": None,
                "title": None,
                "added_at": event.timestamp,
                "updated_at": event.timestamp,
            },
        )

    @process.register
    def revived(self, event: Url.Revived, rows: Rows) -> None:
        self._rest(event, rows, PENDING)

    @process.register
    def removed(self, event: Url.Removed, rows: Rows) -> None:
        self._rest(event, rows, REMOVED)

    def _rest(self, event: Any, rows: Rows, status: str) -> None:
        self._touch(event, rows, status=status, attempts=0, last_error=None, next_attempt_at=None)

    @process.register
    def fetch_scheduled(self, event: Url.FetchScheduled, rows: Rows) -> None:
        self._touch(event, rows, status=PENDING, next_attempt_at=event.not_before)

    @process.register
    def fetch_started(self, event: Url.FetchStarted, rows: Rows) -> None:
        self._touch(event, rows, status=FETCHING, attempts=event.attempt, next_attempt_at=None)

    @process.register
    def fetched(self, event: Url.Fetched, rows: Rows) -> None:
        self._settle(event, rows, FETCHED, version=event.version, title=event.title)

    @process.register
    def unchanged(self, event: Url.Unchanged, rows: Rows) -> None:
        row = rows.get(TABLE, (event.originator_id,))
        chunked = (
            row is not None
            and row["version"] is not None
            and row["chunked_version"] == row["version"]
        )
        vectorized = chunked and row is not None and row.get("vectors_keys") is not None
        self._settle(event, rows, VECTORIZED if vectorized else CHUNKED if chunked else FETCHED)

    @process.register
    def fetch_failed(self, event: Url.FetchFailed, rows: Rows) -> None:
        status = FAILED if event.next_attempt_at is None else PENDING
        self._settle(
            event,
            rows,
            status,
            last_error=event.reason,
            next_attempt_at=event.next_attempt_at,
        )

    @process.register
    def blocked(self, event: Url.Blocked, rows: Rows) -> None:
        self._settle(event, rows, BLOCKED, last_error="robots")

    @process.register
    def text_extracted(self, event: Url.TextExtracted, rows: Rows) -> None:
        if event.title:
            self._touch(event, rows, title=event.title)

    @process.register
    def extraction_failed(self, event: Url.ExtractionFailed, rows: Rows) -> None:
        self._touch(event, rows, status=FAILED, last_error=event.reason)

    @process.register
    def chunked(self, event: Url.Chunked, rows: Rows) -> None:
        row = rows.get(TABLE, (event.originator_id,))
        if row is None:
            return
        # A refresh already waiting (pending, fetching) keeps its status; a
        # version the model refused has new chunks to try.
        refused = row["status"] == FAILED and row["last_error"] == EMBEDDING_FAILED
        again = refused and event.version == row["version"]
        onward = row["status"] in (FETCHED, CHUNKED, VECTORIZED) or again
        status = CHUNKED if onward else row["status"]
        changes = {"last_error": None} if again else {}
        # New chunks: the vectors held so far are of other chunks.
        self._touch(
            event, rows, status=status, chunked_version=event.version, vectors_keys=None, **changes
        )

    @process.register
    def vectorized(self, event: Url.Vectorized, rows: Rows) -> None:
        row = rows.get(TABLE, (event.originator_id,))
        if row is None or event.version != row["version"]:
            return
        refused = row["status"] == FAILED and row["last_error"] == EMBEDDING_FAILED
        status = VECTORIZED if row["status"] == CHUNKED or refused else row["status"]
        # Every model's vectors of the current chunks, not only the last one's:
        # the index may hold any of them (a switch back to a model, a late
        # job of a model the project left).
        keys = (row.get("vectors_keys") or "").split()
        if event.vectors_key not in keys:
            keys.append(event.vectors_key)
        self._touch(
            event,
            rows,
            status=status,
            last_error=None if refused else row["last_error"],
            vectorized_version=event.version,
            vectors_keys=" ".join(keys),
        )

    @process.register
    def vectorization_failed(self, event: Url.VectorizationFailed, rows: Rows) -> None:
        row = rows.get(TABLE, (event.originator_id,))
        if row is None or event.version != row["version"]:
            return
        self._touch(event, rows, status=FAILED, last_error=event.reason)

    @process.register
    def project_deleted(self, event: Project.Deleted, rows: Rows) -> None:
        rows.delete_all(TABLE, "project_id", event.originator_id)
