"""Which blobs the log still needs: the references of every URL version.

Table `blob_refs` holds one row per (blob key, url): the raw page of each
fetched version, its extracted text, its vectors (one blob per model), and
the cached vectors of its chunks' texts (key `vector-cache/<text hash>`).
`blob_urls` says when a URL stopped needing its blobs (removed; revived
clears it) and `blob_projects` when its project was deleted. A blob is
garbage once EVERY URL referencing it has been released (removed, or its
project deleted) for longer than the retention period: content another live
project also fetched stays, it is that project's data. The sweeper
(application/urls/retention.py) deletes garbage blobs and forgets their rows.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import DomainEventProtocol

from application.projections.base import Key, Projection, Rows, dispatchmethod, topics_of
from domain.projects.aggregate import Project
from domain.urls.aggregate import Url

REFS, URLS, PROJECTS = "blob_refs", "blob_urls", "blob_projects"
# Cached vectors are referenced like blobs, under this key prefix + the chunk's
# text hash: the sweep forgets them from the vector cache instead of the store.
CACHED = "vector-cache/"


class BlobsProjection(Projection):
    name = "blobs"
    topics = topics_of(
        Url.Added,
        Url.Fetched,
        Url.TextExtracted,
        Url.Chunked,
        Url.Vectorized,
        Url.Removed,
        Url.Revived,
        Project.Deleted,
    )

    def keys(self, event: DomainEventProtocol[Any]) -> list[tuple[str, Key]]:
        if isinstance(event, Url.Removed | Url.Revived):
            return [(URLS, (event.originator_id,))]
        return []  # the other events write rows without reading any

    def _ref(self, rows: Rows, key: str, url_id: Any) -> None:
        rows.put(REFS, (key, url_id), {"key": key, "url_id": url_id})

    def _release(self, event: Any, rows: Rows, at: Any) -> None:
        row = rows.get(URLS, (event.originator_id,))
        if row is not None:
            rows.put(URLS, (event.originator_id,), {**row, "released_at": at})

    @dispatchmethod
    def process(self, event: DomainEventProtocol[Any], rows: Rows) -> None:
        """Events of no interest change nothing."""

    @process.register
    def added(self, event: Url.Added, rows: Rows) -> None:
        row = {"url_id": event.originator_id, "project_id": event.project_id, "released_at": None}
        rows.put(URLS, (event.originator_id,), row)

    @process.register
    def fetched(self, event: Url.Fetched, rows: Rows) -> None:
        self._ref(rows, event.blob_key, event.originator_id)

    @process.register
    def text_extracted(self, event: Url.TextExtracted, rows: Rows) -> None:
        self._ref(rows, event.text_key, event.originator_id)

    @process.register
    def chunked(self, event: Url.Chunked, rows: Rows) -> None:
        for chunk in event.chunks:  # (id, ordinal, start, end, text hash)
            self._ref(rows, CACHED + chunk[4], event.originator_id)

    @process.register
    def vectorized(self, event: Url.Vectorized, rows: Rows) -> None:
        self._ref(rows, event.vectors_key, event.originator_id)

    @process.register
    def removed(self, event: Url.Removed, rows: Rows) -> None:
        self._release(event, rows, event.timestamp)

    @process.register
    def revived(self, event: Url.Revived, rows: Rows) -> None:
        self._release(event, rows, None)

    @process.register
    def project_deleted(self, event: Project.Deleted, rows: Rows) -> None:
        key = (event.originator_id,)
        rows.put(PROJECTS, key, {"project_id": event.originator_id, "deleted_at": event.timestamp})
