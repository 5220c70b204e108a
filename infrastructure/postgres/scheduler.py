"""The scheduler projector: queues pipeline jobs for the log's requests, exactly once.

A `Projector` over `SchedulerProjection` whose effect enqueues each request
with `enqueue_in` on the batch's own cursor: the jobs, the scheduler rows and
the position commit together, so a batch replayed after a crash queues
nothing twice (and `trawl_jobs` merges per (kind, subject) anyway). A request
for a whole project (re-chunk, refresh, wake) is expanded to the project's
URLs here. A rebuild of the view runs without the effect: it re-reads
history, it does not re-fetch it.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from application.projections.scheduler import (
    PROJECTS,
    TABLE,
    WAKE,
    SchedulerProjection,
    requests,
)
from application.store import TrawlStore
from application.urls.worker import FETCH
from infrastructure.postgres.projector import Projector
from infrastructure.postgres.queue import enqueue_in, wake_in
from infrastructure.postgres.views import BatchRows, TableSchema, ViewSchema

SCHEMA = ViewSchema(
    name="scheduler",
    tables=(
        TableSchema(
            name=TABLE,
            columns=(("id", "uuid"), ("project_id", "uuid"), ("host", "text")),
            key=("id",),
            indexes=("project_id",),
        ),
        TableSchema(name=PROJECTS, columns=(("id", "uuid"), ("refresh", "integer")), key=("id",)),
    ),
)


def enqueue_requests(curs: Cursor[DictRow], event: Any, rows: BatchRows) -> None:
    for request in requests(event, rows):
        if request.subject is not None:
            enqueue_in(
                curs, request.kind, request.subject, {}, request.not_before, host=request.host
            )
            continue
        rows.flush()  # URLs added earlier in this batch count too
        curs.execute(
            SQL("SELECT id, host FROM {} WHERE project_id = %s").format(
                Identifier(TABLE + rows.suffix)
            ),
            (request.project_id,),
        )
        urls = curs.fetchall()
        if request.kind == WAKE:
            wake_in(curs, FETCH, [row["id"] for row in urls])
            continue
        for row in urls:
            enqueue_in(curs, request.kind, row["id"], {}, request.not_before, host=row["host"])


def scheduler_projector(store: TrawlStore, datastore: PostgresDatastore) -> Projector:
    # Fetches may start a quarter second late: the scheduler then costs one
    # transaction per 0.25 s under load instead of one per commit.
    return Projector(
        store,
        datastore,
        SchedulerProjection(),
        SCHEMA,
        effect=enqueue_requests,
        lag=0.25,
        durable=False,  # jobs, rows and position are lost (and redone) together
    )
