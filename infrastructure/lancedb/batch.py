"""The pieces of a search projection batch: gathered rows, deferred Postgres
writes, a URL version's index rows, parking."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

# pyarrow imports numpy.ma the first time it converts a numpy array: 86 ms with
# the GIL held (~0.4 s on a busy machine), which stalled every thread of the
# process at its first indexed URL. Imported with the projector instead.
import numpy.ma  # noqa: F401
import pyarrow as pa  # type: ignore[import-untyped]
from eventsourcing.persistence import Notification

from application.ports import BlobStore
from application.vectorization import vectors
from domain.urls.aggregate import Url, Vectorization
from infrastructure.lancedb import tables as lance
from infrastructure.postgres import search_state


@dataclass
class Pending:
    """What a batch gathered since its last commit: rows per (table, dimensions)
    and URL, the Postgres writes up to `position`, the projects whose model
    switch may have completed; and, for the whole batch, each project's wanted
    model and the projects deleted (their drop is not in Postgres until the
    next commit, and a later event of the batch must not index them again)."""

    generation: int
    rows: dict[tuple[str, int], dict[UUID, pa.Table]] = field(default_factory=dict)
    writes: list[Any] = field(default_factory=list)
    position: int | None = None
    dirty: set[UUID] = field(default_factory=set)
    wanted: dict[UUID, str] = field(default_factory=dict)
    dropped: set[UUID] = field(default_factory=set)

    def clear(self) -> None:
        self.rows, self.writes, self.position, self.dirty = {}, [], None, set()


def url_rows(url: Url, held: Vectorization, blobs: BlobStore) -> pa.Table:
    """The index rows of one URL version: its chunks, their texts and stored vectors."""
    chunks = url.chunkings[held.version].chunks
    text = blobs.get(url.texts[held.version].text_key).decode("utf-8", "surrogatepass")
    matrix = vectors.decode(blobs.get(held.vectors_key))
    return pa.table(
        {
            "chunk_id": [str(c.chunk_id) for c in chunks],
            "project_id": [str(url.project_id)] * len(chunks),
            "url_id": [str(url.id)] * len(chunks),
            "url": [url.final_url or url.url] * len(chunks),
            "title": [url.title] * len(chunks),
            "ordinal": [c.ordinal for c in chunks],
            "start": [c.start for c in chunks],
            "end": [c.end for c in chunks],
            "version": [held.version] * len(chunks),
            "text": [text[c.start : c.end] for c in chunks],
            "vector": pa.FixedSizeListArray.from_arrays(
                pa.array(matrix.reshape(-1), type=pa.float32()), held.dimensions
            ),
        },
        schema=lance.schema(held.dimensions),
    )


def indexed_write(suffix: str, url: Url, model: str, held: Vectorization) -> Callable[[Any], None]:
    """The Postgres write saying the index holds these vectors of the URL."""
    chunks = len(url.chunkings[held.version].chunks)
    return lambda c: search_state.indexed(
        c, suffix, url.id, url.project_id, model, held.version, held.vectors_key, chunks
    )


def park(curs: Any, view: str, row: dict[str, Any], error: Exception) -> None:
    """Set an event the view cannot apply aside (visible, retryable)."""
    curs.execute(
        "INSERT INTO trawl_parked_events (view, position, topic, error)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (view, row["notification_id"], row["topic"], repr(error)[:2000]),
    )


def notification(row: dict[str, Any]) -> Notification:
    return Notification(
        id=row["notification_id"],
        originator_id=row["originator_id"],
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
    )
