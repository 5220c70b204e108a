"""The `blobs` view in Postgres: blob references, and which blobs are garbage."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

from application.projections.blobs import PROJECTS, REFS, URLS
from infrastructure.postgres.projector import lock_id
from infrastructure.postgres.views import TableSchema, ViewSchema

SCHEMA = ViewSchema(
    name="blobs",
    tables=(
        TableSchema(
            name=REFS,
            columns=(("key", "text"), ("url_id", "uuid")),
            key=("key", "url_id"),
            indexes=("url_id",),
        ),
        TableSchema(
            name=URLS,
            columns=(("url_id", "uuid"), ("project_id", "uuid"), ("released_at", "timestamptz")),
            key=("url_id",),
            indexes=("project_id",),
        ),
        TableSchema(
            name=PROJECTS,
            columns=(("project_id", "uuid"), ("deleted_at", "timestamptz")),
            key=("project_id",),
        ),
    ),
)

# When each URL let go of its blobs: removed, or its project deleted (the earlier).
_RELEASED = (
    "SELECT u.url_id, least(u.released_at, p.deleted_at) AS released_at"
    f" FROM {URLS} u LEFT JOIN {PROJECTS} p USING (project_id)"
)


class PostgresBlobReferences:
    """`BlobReferences` over the live `blobs` view."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    def release_garbage(self, released_before: timedelta, limit: int) -> list[str]:
        # Under the view's lock: the projector cannot add a reference to a key
        # between finding it garbage and forgetting it.
        with self.datastore.transaction(commit=True) as curs:
            curs.execute("SELECT pg_advisory_xact_lock(%s)", (lock_id(SCHEMA.name),))
            curs.execute(
                f"SELECT r.key FROM {REFS} r JOIN ({_RELEASED}) u USING (url_id)"
                " GROUP BY r.key HAVING bool_and(u.released_at IS NOT NULL"
                " AND u.released_at < now() - %s) LIMIT %s",
                (released_before, limit),
            )
            keys = [row["key"] for row in curs.fetchall()]
            curs.execute(f"DELETE FROM {REFS} WHERE key = ANY(%s)", (keys,))
            return keys

    def held_by_project(self, project_id: object) -> list[str]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                f"SELECT DISTINCT r.key FROM {REFS} r JOIN {URLS} u USING (url_id)"
                " WHERE u.project_id = %s ORDER BY r.key",
                (UUID(str(project_id)),),
            )
            return [row["key"] for row in curs.fetchall()]
