"""The `blobs` view in Postgres: blob references, and which blobs are garbage."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg import Cursor
from psycopg.rows import DictRow

from application.audit.ports import Finding
from application.projections.blobs import PROJECTS, REFS, URLS
from infrastructure.postgres.batches import lock_id
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
                # A reference whose URL is unknown counts as live (LEFT JOIN).
                f"SELECT r.key FROM {REFS} r LEFT JOIN ({_RELEASED}) u USING (url_id)"
                " GROUP BY r.key HAVING bool_and(u.released_at IS NOT NULL"
                " AND u.released_at < now() - %s) LIMIT %s",
                (released_before, limit),
            )
            keys = [row["key"] for row in curs.fetchall()]
            curs.execute(f"DELETE FROM {REFS} WHERE key = ANY(%s)", (keys,))
            if len(keys) < limit:  # the last batch: tidy up the released URLs' rows
                # Their other references name content live URLs still hold:
                # it stays as the live ones' data, unreferenced by the released.
                curs.execute(
                    f"DELETE FROM {REFS} r USING ({_RELEASED}) u WHERE r.url_id = u.url_id"
                    " AND u.released_at < now() - %s",
                    (released_before,),
                )
                self._forget_deleted_projects(curs)
            return keys

    def _forget_deleted_projects(self, curs: Cursor[DictRow]) -> None:
        """Deleted projects whose URLs hold no blob any more leave the view
        entirely (a deleted project never comes back)."""
        curs.execute(
            # Nothing left to retain: the time does not matter any more.
            f"SELECT p.project_id FROM {PROJECTS} p WHERE NOT EXISTS"
            f" (SELECT 1 FROM {URLS} u JOIN {REFS} r USING (url_id)"
            " WHERE u.project_id = p.project_id)"
        )
        done = [row["project_id"] for row in curs.fetchall()]
        curs.execute(f"DELETE FROM {URLS} WHERE project_id = ANY(%s)", (done,))
        curs.execute(f"DELETE FROM {PROJECTS} WHERE project_id = ANY(%s)", (done,))

    def held_by_project(self, project_id: object) -> list[str]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                f"SELECT DISTINCT r.key FROM {REFS} r JOIN {URLS} u USING (url_id)"
                " WHERE u.project_id = %s ORDER BY r.key",
                (UUID(str(project_id)),),
            )
            return [row["key"] for row in curs.fetchall()]


class BlobDeletionCheck:
    """A `DeletionCheck`: no blob reference of a deleted project is left.

    During the retention period the references are still there, on purpose:
    the check says until when; after it, the sweep removes the blobs nothing
    live references and then the project's rows (content another live project
    holds stays, as that project's data, and no row of the deleted one names it).
    """

    name = "blobs"

    def __init__(self, datastore: PostgresDatastore, retention: timedelta) -> None:
        self.datastore = datastore
        self.retention = retention

    def run(self, project_id: UUID, url_ids: Sequence[UUID]) -> Finding:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                f"SELECT count(DISTINCT r.key) AS keys, count(DISTINCT u.url_id) AS urls,"
                f" max(p.deleted_at) AS deleted_at FROM {URLS} u"
                f" LEFT JOIN {REFS} r USING (url_id) LEFT JOIN {PROJECTS} p USING (project_id)"
                " WHERE u.project_id = %s OR u.url_id = ANY(%s)",
                (project_id, list(url_ids)),
            )
            row = curs.fetchone()
        if row is None or not row["keys"]:
            return Finding(self.name, True, "no blob is referenced by the project")
        until = row["deleted_at"] + self.retention if row["deleted_at"] else None
        when = f"kept until {until:%Y-%m-%d %H:%M} UTC (retention)" if until else "not deleted"
        return Finding(
            self.name,
            False,
            f"{row['urls']} URLs still hold {row['keys']} blobs or cached vectors: {when},"
            " then swept",
        )
