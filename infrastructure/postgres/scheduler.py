"""The scheduler projector: queues a "fetch" job per request, exactly once.

A `Projector` over `SchedulerProjection` whose effect enqueues the job with
`enqueue_in` on the batch's own cursor: the job, the URL-host rows and the
position commit together, so a batch replayed after a crash queues nothing
twice (and `trawl_jobs` merges per (kind, subject) anyway). A rebuild of the
view runs without the effect: it re-reads history, it does not re-fetch it.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow

from application.projections.scheduler import SchedulerProjection, fetch_request
from application.store import TrawlStore
from application.urls.worker import FETCH
from infrastructure.postgres.projector import Projector
from infrastructure.postgres.queue import enqueue_in
from infrastructure.postgres.views import BatchRows, TableSchema, ViewSchema

SCHEMA = ViewSchema(
    name="scheduler",
    tables=(
        TableSchema(
            name="scheduler_urls",
            columns=(("id", "uuid"), ("project_id", "uuid"), ("host", "text")),
            key=("id",),
        ),
    ),
)


def enqueue_fetch(curs: Cursor[DictRow], event: Any, rows: BatchRows) -> None:
    request = fetch_request(event, rows)
    if request is not None:
        enqueue_in(curs, FETCH, request.url_id, {}, request.not_before, host=request.host)


def scheduler_projector(store: TrawlStore, datastore: PostgresDatastore) -> Projector:
    # Fetches may start a quarter second late: the scheduler then costs one
    # transaction per 0.25 s under load instead of one per commit.
    return Projector(
        store, datastore, SchedulerProjection(), SCHEMA, effect=enqueue_fetch, lag=0.25
    )
