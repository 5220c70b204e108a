"""Blob retention: delete the blobs no live URL version references any more.

A blob is garbage when every URL referencing it was removed, or its project
deleted, longer ago than the retention period (the `blobs` view answers
which). The sweep takes a batch of garbage keys out of the view (atomically,
so no new reference can slip in between), then deletes those blobs. A crash
in between leaves unreferenced blobs behind (storage, never a reference to
a missing blob).

Known gap: a worker that fetches content identical to a garbage blob writes
nothing (blobs are write-once) and records its reference a moment later; a
sweep deleting that very blob in between leaves the new version without its
raw bytes (its extraction then fails with `blob-missing` and a refresh heals
it). The window is the worker's few milliseconds after the write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Protocol

from application.ports import BlobStore
from application.projections.blobs import CACHED

logger = logging.getLogger(__name__)


class BlobReferences(Protocol):
    """The `blobs` view (a Postgres table in production)."""

    def release_garbage(self, released_before: timedelta, limit: int) -> list[str]:
        """Take out (and return) up to `limit` keys of blobs whose every
        referencing URL was released more than `released_before` ago (removed,
        or its project deleted)."""
        ...

    def held_by_project(self, project_id: object) -> list[str]:
        """Keys of blobs a project's URLs reference (the deletion report)."""
        ...


def sweep(
    references: BlobReferences,
    blobs: BlobStore,
    retention: timedelta,
    batch: int = 500,
    forget_cached: Callable[[list[str]], None] = lambda _: None,
) -> int:
    """Delete every garbage blob and cached vector; the number deleted."""
    deleted = 0
    while keys := references.release_garbage(retention, batch):
        cached = [key.removeprefix(CACHED) for key in keys if key.startswith(CACHED)]
        forget_cached(cached)  # the vector cache, for every model
        for key in keys:
            if not key.startswith(CACHED):
                blobs.delete(key)
        deleted += len(keys)
        if len(keys) < batch:
            break
    if deleted:
        logger.info("blob retention: deleted %d blobs nothing live references", deleted)
    return deleted
