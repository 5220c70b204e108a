"""The search projection: copies stored vectors and chunk texts into LanceDB.

It never embeds: `Vectorized` names the vectors blob, the chunks come from
the Url at that event's version, and their texts are slices of the extracted
text blob. LanceDB commits first (one `merge_insert` per table for the
URL versions a batch gathered, each URL's vanished chunks deleted in the
same commit; deletes by URL or project in log order), THEN the positions and
`trawl_search_urls` are written in one Postgres transaction, so a crash in
between replays the events harmlessly (the merges and the deletes are
idempotent). A Postgres advisory lock, held
for one batch at a time, keeps one writer per generation across processes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import pyarrow as pa  # type: ignore[import-untyped]
from eventsourcing.postgres import PostgresDatastore
from psycopg import Connection
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from application.ports import BlobStore
from application.store import TrawlStore
from application.vectorization import vectors
from domain.projects.aggregate import Project
from domain.urls.aggregate import Url
from infrastructure.lancedb import tables as lance
from infrastructure.postgres import search_state, views
from infrastructure.postgres.projector import lock_id

log = logging.getLogger(__name__)

TOPICS = tuple(cls.TOPIC for cls in (Url.Vectorized, Url.Removed, Url.Revived, Project.Deleted))
Progress = Callable[[int], None]


class SearchProjector:
    def __init__(
        self,
        store: TrawlStore,
        datastore: PostgresDatastore,
        tables: lance.LanceTables,
        blobs: BlobStore,
        *,
        suffix: str = "",
        generation: int | None = None,  # None: the live one, read from Postgres
        batch_size: int = 500,
        maintain_seconds: float = 60.0,
    ) -> None:
        self.store, self.datastore, self.tables, self.blobs = store, datastore, tables, blobs
        self.suffix = suffix
        self.fixed_generation = generation
        self.batch_size = batch_size
        self.maintain_seconds = maintain_seconds
        self.view = search_state.VIEW + suffix
        self._events = store.recorder.events_table_name  # type: ignore[attr-defined]
        self._last_maintained = time.monotonic()

    def setup(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for statement in views.POSITIONS_DDL:
                curs.execute(statement)
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (lock_id(self.view),))
            search_state.create(curs, self.suffix)
            curs.execute(
                "INSERT INTO trawl_view_positions (view) VALUES (%s) ON CONFLICT DO NOTHING",
                (self.view,),
            )

    def position(self) -> int:
        with self.datastore.transaction(commit=False) as curs:
            return views.read_position(curs, self.view)

    def run_batch(self, conn: Connection[DictRow] | None = None) -> int:
        """Apply the next batch under the writer lock; events read (0: caught up or not ours)."""
        if conn is not None:  # the caller holds the lock (the rebuild's swap)
            return self._batch(conn)
        with self.datastore.get_connection() as own:
            row = own.execute("SELECT pg_try_advisory_lock(%s) AS ok", (lock_id(self.view),))
            if not row.fetchone()["ok"]:  # type: ignore[index]
                return 0  # another process is the writer
            try:
                return self._batch(own)
            finally:
                own.execute("SELECT pg_advisory_unlock(%s)", (lock_id(self.view),))

    def catch_up(
        self, progress: Progress | None = None, stop: threading.Event | None = None
    ) -> int:
        total = 0
        while not (stop and stop.is_set()):
            count = self.run_batch()
            total += count
            if progress and count:
                progress(count)
            if count < self.batch_size:
                break
        return total

    def follow(self, stop: threading.Event, idle_timeout: float = 1.0) -> None:
        """Catch up, then sleep until NOTIFY says the log grew; upkeep now and then."""
        channel = self.store.recorder.channel_name  # type: ignore[attr-defined]
        with self.datastore.get_connection() as listening:
            listening.execute(SQL("LISTEN {}").format(Identifier(channel)))
            while not stop.is_set():
                try:
                    self.catch_up(stop=stop)
                    if time.monotonic() - self._last_maintained > self.maintain_seconds:
                        self.maintain()
                except Exception:
                    log.exception("search projector failed a batch; retrying")
                    stop.wait(idle_timeout)
                for _ in listening.notifies(timeout=idle_timeout, stop_after=1):
                    pass

    def maintain(self) -> None:
        self._last_maintained = time.monotonic()
        for name in self.tables.names(self.generation()):
            self.tables.maintain(name)

    def generation(self) -> int:
        if self.fixed_generation is not None:
            return self.fixed_generation
        return search_state.live_generation(self.datastore)

    # -- one batch ---------------------------------------------------------

    def _batch(self, conn: Connection[DictRow]) -> int:
        with conn.transaction():
            curs = conn.cursor()
            start = views.read_position(curs, self.view)
            head = self.store.head()
            curs.execute(
                f"SELECT notification_id, originator_id, originator_version, topic, state"
                f" FROM {self._events} WHERE notification_id > %s AND notification_id <= %s"
                " AND topic = ANY(%s) ORDER BY notification_id LIMIT %s",
                (start, head, list(TOPICS), self.batch_size),
            )
            found = curs.fetchall()
        generation = self.generation()
        pending = _Pending()
        for row in found:
            try:
                event = self.store.mapper.to_domain_event(_notification(row))
                if isinstance(event, Project.Deleted | Url.Removed):
                    self._flush(conn, pending)  # deletions apply in log order
                writes = self._apply(event, generation, conn, pending)
            except Exception as error:  # noqa: BLE001 - parked, visible, retryable
                log.error("view %s parked event %s: %s", self.view, row["notification_id"], error)
                writes = [lambda c, row=row, error=error: _park(c, self.view, row, error)]
            pending.writes += writes
            pending.position = int(row["notification_id"])
        self._flush(conn, pending)
        end = head if len(found) < self.batch_size else int(found[-1]["notification_id"])
        if end > start:
            with conn.transaction():
                views.write_position(conn.cursor(), self.view, end)
        return max(len(found), 1 if end > start else 0)

    def _flush(self, conn: Connection[DictRow], pending: _Pending) -> None:
        """The URLs gathered so far: one LanceDB commit per table, then their
        Postgres rows and the position in one transaction."""
        for (name, dimensions), urls in pending.rows.items():
            self.tables.upsert_urls(name, dimensions, urls)
        if pending.position is not None:
            with conn.transaction():
                curs = conn.cursor()
                # LanceDB committed first; a position lost in a crash replays
                # the events harmlessly, so this need not wait for the flush.
                curs.execute("SET LOCAL synchronous_commit = off")
                for write in pending.writes:
                    write(curs)
                views.write_position(curs, self.view, pending.position)
        pending.clear()

    def _apply(
        self, event: Any, generation: int, conn: Connection[DictRow], pending: _Pending
    ) -> list[Any]:
        """Delete in LanceDB now, or gather the URL's rows for the next commit;
        answer the Postgres writes that follow the commit."""
        s = self.suffix
        names = self.tables.names(generation)
        if isinstance(event, Project.Deleted):
            self.tables.delete(names, lance.project_filter(event.originator_id))
            return [lambda c: search_state.drop_project(c, s, event.originator_id)]
        if isinstance(event, Url.Removed):
            self.tables.delete(names, lance.url_filter(event.originator_id))
            return [lambda c: search_state.forget_url(c, s, event.originator_id)]
        url = self.store.load(Url, event.originator_id, version=event.originator_version)
        if search_state.is_dropped(conn.cursor(), s, url.project_id):
            return []
        models = [event.model_id] if isinstance(event, Url.Vectorized) else list(url.vectors)
        writes = []
        for model in models:
            held = url.vectors_for(model)
            if held is not None:
                self._index(url, model, held, generation, pending)
                writes.append(_indexed(s, url, model, held))
        return writes

    def _index(self, url: Url, model: str, held: Any, generation: int, pending: _Pending) -> None:
        chunking = url.chunkings[held.version]
        text = self.blobs.get(url.texts[held.version].text_key).decode("utf-8", "surrogatepass")
        matrix = vectors.decode(self.blobs.get(held.vectors_key))
        chunks = chunking.chunks
        rows = pa.table(
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
        name = lance.table_name(model, generation)
        # A later version of the same URL in this batch replaces the earlier rows.
        pending.rows.setdefault((name, held.dimensions), {})[url.id] = rows


@dataclass
class _Pending:
    """What a batch gathered since its last commit: rows per (table, dimensions)
    and URL, and the Postgres writes up to `position`."""

    rows: dict[tuple[str, int], dict[UUID, pa.Table]] = field(default_factory=dict)
    writes: list[Any] = field(default_factory=list)
    position: int | None = None

    def clear(self) -> None:
        self.rows, self.writes, self.position = {}, [], None


def _indexed(suffix: str, url: Url, model: str, held: Any) -> Callable[[Any], None]:
    chunks = len(url.chunkings[held.version].chunks)
    return lambda c: search_state.indexed(
        c, suffix, url.id, url.project_id, model, held.version, held.vectors_key, chunks
    )


def _park(curs: Any, view: str, row: dict[str, Any], error: Exception) -> None:
    curs.execute(
        "INSERT INTO trawl_parked_events (view, position, topic, error)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (view, row["notification_id"], row["topic"], repr(error)[:2000]),
    )


def _notification(row: dict[str, Any]) -> Any:
    from eventsourcing.persistence import Notification

    return Notification(
        id=row["notification_id"],
        originator_id=row["originator_id"],
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
    )
