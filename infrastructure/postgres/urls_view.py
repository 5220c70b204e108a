"""The urls read model in Postgres: its schema and its queries."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

from application.urls.queries import UrlView
from infrastructure.postgres.views import TableSchema, ViewSchema

SCHEMA = ViewSchema(
    name="urls",
    tables=(
        TableSchema(
            name="urls",
            columns=(
                ("id", "uuid"),
                ("project_id", "uuid"),
                ("url", "text"),
                ("status", "text"),
                ("attempts", "integer"),
                ("next_attempt_at", "timestamptz"),
                ("last_error", "text"),
                ("version", "integer"),
                ("chunked_version", "integer"),
                ("vectorized_version", "integer"),
                # The blob keys of every model's vectors of the current
                # chunks, space-separated (none: not vectorized yet).
                ("vectors_keys", "text"),
                ("title", "text"),
                ("added_at", "timestamptz"),
                ("updated_at", "timestamptz"),
            ),
            key=("id",),
            indexes=("project_id, status, id", "project_id, id"),
        ),
    ),
)

# `indexed`: the search index holds vectors the URL's current chunks got, of
# any model (trawl_search_urls is written by the search projection after each
# commit; a completed model switch leaves only the answering model's rows).
_COLUMNS = (
    "id, project_id, url, status, attempts, next_attempt_at, last_error, version, title,"
    " added_at, updated_at, EXISTS (SELECT 1 FROM trawl_search_urls s WHERE s.url_id = urls.id"
    " AND s.vectors_key = ANY(string_to_array(urls.vectors_keys, ' '))) AS indexed"
)


class PostgresUrlsView:
    """`UrlsView` over the live `urls` table."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    def _rows(self, sql: str, params: tuple[object, ...]) -> list[dict[str, object]]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(sql, params, prepare=True)
            return list(curs.fetchall())

    def get(self, url_id: UUID) -> UrlView | None:
        rows = self._rows(f"SELECT {_COLUMNS} FROM urls WHERE id = %s", (url_id,))
        return UrlView(**rows[0]) if rows else None  # type: ignore[arg-type]

    def in_project(
        self, project_id: UUID, status: str | None, limit: int, after: UUID | None
    ) -> list[UrlView]:
        start = after or UUID(int=0)
        if status is None:
            rows = self._rows(
                f"SELECT {_COLUMNS} FROM urls WHERE project_id = %s AND id > %s"
                " ORDER BY id LIMIT %s",
                (project_id, start, limit),
            )
        else:
            rows = self._rows(
                f"SELECT {_COLUMNS} FROM urls WHERE project_id = %s AND status = %s"
                " AND id > %s ORDER BY id LIMIT %s",
                (project_id, status, start, limit),
            )
        return [UrlView(**row) for row in rows]  # type: ignore[arg-type]

    def counts(self, project_id: UUID) -> dict[str, int]:
        rows = self._rows(
            "SELECT status, count(*) AS n FROM urls WHERE project_id = %s GROUP BY status",
            (project_id,),
        )
        return {str(row["status"]): int(row["n"]) for row in rows}  # type: ignore[call-overload]
