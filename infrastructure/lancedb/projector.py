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

A project's rows go to the table of the model its settings want at that
point of the log, and only there (a late `Vectorized` of a model it left is
not indexed). After a model change the old model's table keeps answering
(`search_switch`) until every URL indexed under it has rows of the new one;
then the new model answers (the batch's transaction), and after that the old
model's rows of the project are deleted from LanceDB, then from Postgres with
the position (a crash in between replays the batch, which deletes them
again). A URL whose chunks the project's model refused (`VectorizationFailed`)
leaves the index, so a switch never waits for it. Every decision depends on
the log up to the event alone, so a replay or rebuild reaches the same index.

An event is parked (`trawl_parked_events`) only when it cannot be applied
however often it is tried: a blob gone or altered, state that does not
decode. When a dependency fails instead (a blob store or LanceDB timing out,
Postgres away: `TRANSIENT`), the batch stops where it is and `follow` tries
again from the last committed position, so an outage shorter than
`PARK_AFTER_SECONDS` never leaves a URL out of the index or a removed one in
it. An event still failing after that is parked too (an S3 object moved to
an archive class fails the same way for ever, and the view must go on).
Parked events show in `GET /api/v1/system/projections`; `trawl rebuild
--view search` applies them again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import psycopg
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]
from eventsourcing import persistence
from eventsourcing.postgres import PostgresDatastore
from psycopg import Connection
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from application.ports import BlobStore
from application.store import TrawlStore
from domain.projects.aggregate import Project
from domain.urls.aggregate import Url
from infrastructure.lancedb import tables as lance
from infrastructure.lancedb.batch import Pending, indexed_write, notification, park, url_rows
from infrastructure.postgres import search_state, search_switch, views
from infrastructure.postgres.listening import listener
from infrastructure.postgres.projector import lock_id

log = logging.getLogger(__name__)

TOPICS = tuple(
    cls.TOPIC
    for cls in (
        Url.Vectorized,
        Url.VectorizationFailed,
        Url.Removed,
        Url.Revived,
        Project.Created,
        Project.EmbeddingModelChanged,
        Project.Deleted,
    )
)
PARK_AFTER_SECONDS = 300.0  # an event failing transiently this long is parked
# Events applied after whatever the batch gathered before them is committed.
IN_ORDER = frozenset(
    cls.TOPIC
    for cls in (
        Project.Deleted,
        Url.Removed,
        Url.VectorizationFailed,
        Project.EmbeddingModelChanged,
    )
)
Progress = Callable[[int], None]
# Failures of a dependency, not of the event: the batch stops and is tried
# again. OSError covers files and sockets (timeouts, refused connections);
# LanceDB reports its I/O and commit failures as OSError or RuntimeError; an S3
# error that is not a missing object (throttling, credentials) is a ClientError.
TRANSIENT = (
    OSError,
    RuntimeError,
    psycopg.Error,
    persistence.OperationalError,
    persistence.InterfaceError,
    BotoCoreError,
    ClientError,
)


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
        optimize_seconds: float = 60.0,
        park_after_seconds: float = PARK_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store, self.datastore, self.tables, self.blobs = store, datastore, tables, blobs
        self.park_after_seconds, self.clock = park_after_seconds, clock
        self._failing: tuple[int, float] | None = None  # (position, first failure)
        self.suffix = suffix
        self.fixed_generation = generation
        self.batch_size = batch_size
        self.optimize_seconds = optimize_seconds
        self._optimized = time.monotonic()
        self.view = search_state.VIEW + suffix
        self._events = store.recorder.events_table_name  # type: ignore[attr-defined]

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
        """Catch up, then sleep until NOTIFY says the log grew; every
        `optimize_seconds`, between batches, optimize the tables.

        Index training (`train`) runs elsewhere: an ANN build takes minutes at
        1M rows and the index must keep following the log meanwhile (Lance
        commits the build beside the merges). Compaction stays here, between
        this writer's own commits, where it cannot lose a commit race."""
        channel = self.store.recorder.channel_name  # type: ignore[attr-defined]
        with listener(self.datastore) as listening:
            listening.execute(SQL("LISTEN {}").format(Identifier(channel)))
            while not stop.is_set():
                try:
                    self.catch_up(stop=stop)
                    if time.monotonic() - self._optimized > self.optimize_seconds:
                        self.optimize()
                except Exception:
                    log.exception("search projector failed a batch; retrying")
                    stop.wait(idle_timeout)
                for _ in listening.notifies(timeout=idle_timeout, stop_after=1):
                    pass

    def optimize(self) -> None:
        """Compaction, index refresh and cleanup of the live generation's tables."""
        self._optimized = time.monotonic()
        for name in self.tables.names(self.generation()):
            self.tables.optimize(name)

    def train(self) -> bool:
        """Index training of the live generation's tables (BTree, FTS, the ANN
        index past its threshold) by one process at a time; False: another is."""
        upkeep = lock_id(self.view + ":upkeep")
        with self.datastore.get_connection() as own:
            row = own.execute("SELECT pg_try_advisory_lock(%s) AS ok", (upkeep,))
            if not row.fetchone()["ok"]:  # type: ignore[index]
                return False
            try:
                for name in self.tables.names(self.generation()):
                    self.tables.train(name)
            finally:
                own.execute("SELECT pg_advisory_unlock(%s)", (upkeep,))
        return True

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
        pending = Pending(self.generation())
        for row in found:
            position = int(row["notification_id"])
            if row["topic"] in IN_ORDER:
                # Deletions and model changes apply in log order. Outside the
                # event's try: a failing flush stops the batch and is never
                # this event's fault (parking it would skip a deletion).
                self._flush(conn, pending)
            try:
                event = self.store.mapper.to_domain_event(notification(row))
                writes = self._apply(event, position, conn, pending)
            except Exception as error:  # parked (visible, retryable) unless transient
                if isinstance(error, TRANSIENT) and not self._failed_too_long(position):
                    raise  # nothing after the last commit is lost: `follow` tries again
                log.error("view %s parked event %s: %s", self.view, position, error)
                writes = [lambda c, row=row, error=error: park(c, self.view, row, error)]
            pending.writes += writes
            pending.position = position
        self._flush(conn, pending)
        end = head if len(found) < self.batch_size else int(found[-1]["notification_id"])
        if end > start:
            with conn.transaction():
                views.write_position(conn.cursor(), self.view, end)
        return max(len(found), 1 if end > start else 0)

    def _failed_too_long(self, position: int) -> bool:
        """Whether the event at `position` has failed for `park_after_seconds`
        (counted from its first failure in a row)."""
        now = self.clock()
        if self._failing is None or self._failing[0] != position:
            self._failing = (position, now)
        return now - self._failing[1] >= self.park_after_seconds

    def _flush(self, conn: Connection[DictRow], pending: Pending) -> None:
        """The URLs gathered so far: one LanceDB commit per table, then their
        Postgres rows and the position in one transaction.

        A project whose URLs all have the wanted model's rows answers from them
        in that transaction; its rows in other models' tables go after it
        (deleted first, they left a window in which searches still read the
        old table and found nothing), then the position moves. A crash in
        between replays the batch, and the replay finds the switch completed
        with rows left to delete."""
        for (name, dimensions), urls in pending.rows.items():
            self.tables.upsert_urls(name, dimensions, urls)
        if pending.position is None:
            pending.clear()
            return
        with conn.transaction():
            curs = conn.cursor()
            # LanceDB committed first; a position lost in a crash replays
            # the events harmlessly, so this need not wait for the flush.
            curs.execute("SET LOCAL synchronous_commit = off")
            for write in pending.writes:
                write(curs)
            switched = {p: done for p in pending.dirty if (done := self._switch(curs, p))}
            if switched:
                # The old rows are deleted once this commits: a switch lost in a
                # Postgres crash would leave searches reading an emptied table.
                curs.execute("SET LOCAL synchronous_commit = on")
            else:
                views.write_position(curs, self.view, pending.position)
        if switched:
            for project_id, (model, others) in switched.items():
                answering = lance.table_name(model, pending.generation)
                names = [lance.table_name(other, pending.generation) for other in others]
                # Never the answering table (an id recorded in another spelling
                # before ids had one names the same table).
                self.tables.delete(
                    [n for n in names if n != answering], lance.project_filter(project_id)
                )
            with conn.transaction():
                curs = conn.cursor()
                for project_id, (model, _) in switched.items():
                    search_switch.forget_others(curs, self.suffix, project_id, model)
                views.write_position(curs, self.view, pending.position)
        pending.clear()

    def _switch(self, curs: Any, project_id: UUID) -> tuple[str, list[str]] | None:
        """(model, the other models with rows) once every URL of the project
        has the wanted model's rows: the project answers from them now."""
        done = search_switch.completed(curs, self.suffix, project_id)
        if done is not None:
            search_switch.switch(curs, self.suffix, project_id, done[0])
        return done

    def _apply(
        self, event: Any, position: int, conn: Connection[DictRow], pending: Pending
    ) -> list[Any]:
        """Delete in LanceDB now, or gather the URL's rows for the next commit;
        answer the Postgres writes that follow the commit."""
        s = self.suffix
        if isinstance(event, Project.Event):
            return self._project_event(event, position, conn, pending)
        if isinstance(event, Url.Removed):
            removed = self.store.load(Url, event.originator_id, version=event.originator_version)
            self._leave(removed, pending)
            return [lambda c: search_state.forget_url(c, s, event.originator_id)]
        url = self.store.load(Url, event.originator_id, version=event.originator_version)
        if self._dropped(conn, pending, url.project_id):
            return []
        model = self._wanted(conn, pending, url.project_id, position)
        if isinstance(event, Url.VectorizationFailed):
            return self._refused(event, url, model, pending)
        # A Vectorized of another model: a job that started before the project changed its model.
        other = isinstance(event, Url.Vectorized) and event.model_id != model
        held = None if other else url.vectors_for(model)
        if held is None:
            return []
        self._index(url, model, held, pending.generation, pending)
        pending.dirty.add(url.project_id)
        return [indexed_write(s, url, model, held)]

    def _refused(self, event: Any, url: Url, model: str, pending: Pending) -> list[Any]:
        """The project's model refused the URL's current chunks: it leaves the
        index, so a switch to that model does not wait for vectors that will
        not come. A refusal by a model the project has left changes nothing."""
        if event.model_id != model:
            return []
        self._leave(url, pending)
        s, url_id, project_id, version = self.suffix, url.id, url.project_id, event.version
        return [lambda c: search_state.refused(c, s, url_id, project_id, model, version)]

    def _leave(self, url: Url, pending: Pending) -> None:
        """The URL's rows leave every table now (its Postgres rows go after the commit)."""
        self.tables.delete(self.tables.names(pending.generation), lance.url_filter(url.id))
        pending.dirty.add(url.project_id)  # it may have been a switch's last laggard

    def _project_event(
        self, event: Any, position: int, conn: Connection[DictRow], pending: Pending
    ) -> list[Any]:
        s, project_id = self.suffix, event.originator_id
        if isinstance(event, Project.Created):
            model = event.embedding_model
            pending.wanted[project_id] = model
            return [lambda c: search_switch.set_wanted(c, s, project_id, model)]
        if isinstance(event, Project.EmbeddingModelChanged):
            return self._model_changed(event, position, conn, pending)
        # Project.Deleted
        names = self.tables.names(pending.generation)
        self.tables.delete(names, lance.project_filter(project_id))
        pending.wanted.pop(project_id, None)
        pending.dropped.add(project_id)
        return [lambda c: search_state.drop_project(c, s, project_id)]

    def _model_changed(
        self, event: Any, position: int, conn: Connection[DictRow], pending: Pending
    ) -> list[Any]:
        """The project's URLs go to the new model's table as they get its vectors.

        URLs that hold them already (the worker does not vectorize them again,
        e.g. on a switch back) are indexed now, from their state at this point
        of the log, so that the switch can complete.
        """
        s, project_id, model = self.suffix, event.originator_id, event.embedding_model
        if self._dropped(conn, pending, project_id):
            return []
        writes = [lambda c: search_switch.set_wanted(c, s, project_id, model)]
        held = search_switch.held(conn.cursor(), s, project_id, model)
        versions = self._versions_at(conn, list(held), position)
        for url_id, key in held.items():
            url = self.store.load(Url, url_id, version=versions[url_id])
            vectors = url.vectors_for(model) if url.is_live else None
            if vectors is not None and vectors.vectors_key != key:
                self._index(url, model, vectors, pending.generation, pending)
                writes.append(indexed_write(s, url, model, vectors))
        pending.wanted[project_id] = model
        pending.dirty.add(project_id)
        return writes

    def _dropped(self, conn: Connection[DictRow], pending: Pending, project_id: UUID) -> bool:
        """Whether the project was deleted: earlier in this batch, or before it."""
        return project_id in pending.dropped or search_state.is_dropped(
            conn.cursor(), self.suffix, project_id
        )

    def _wanted(
        self, conn: Connection[DictRow], pending: Pending, project_id: UUID, position: int
    ) -> str:
        """The model the project's settings want at `position` (cached for the batch)."""
        if project_id in pending.wanted:
            return pending.wanted[project_id]
        found = search_switch.wanted(conn.cursor(), self.suffix, project_id)
        if found is None:  # indexed before this table existed: read it from the log
            version = self._versions_at(conn, [project_id], position)[project_id]
            found = self.store.load(Project, project_id, version=version).embedding_model
            s, model = self.suffix, found
            pending.writes.append(lambda c: search_switch.set_wanted(c, s, project_id, model))
        pending.wanted[project_id] = found
        return found

    def _versions_at(
        self, conn: Connection[DictRow], ids: list[UUID], position: int
    ) -> dict[UUID, int]:
        """Each aggregate's version as of log position `position`."""
        found = conn.execute(
            f"SELECT originator_id, max(originator_version) AS version FROM {self._events}"
            " WHERE originator_id = ANY(%s) AND notification_id <= %s GROUP BY originator_id",
            (ids, position),
        ).fetchall()
        return {row["originator_id"]: int(row["version"]) for row in found}

    def _index(self, url: Url, model: str, held: Any, generation: int, pending: Pending) -> None:
        name = lance.table_name(model, generation)
        # A later version of the same URL in this batch replaces the earlier rows.
        pending.rows.setdefault((name, held.dimensions), {})[url.id] = url_rows(
            url, held, self.blobs
        )
