"""The projects read model in Postgres: its schema and its queries."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

from application.projects.queries import ProjectView
from infrastructure.postgres.views import TableSchema, ViewSchema

SCHEMA = ViewSchema(
    name="projects",
    tables=(
        TableSchema(
            name="projects",
            columns=(
                ("id", "uuid"),
                ("owner_id", "uuid"),
                ("name", "text"),
                ("description", "text"),
                ("status", "text"),
                ("chunk_size", "integer"),
                ("chunk_overlap", "integer"),
                ("refresh_interval_seconds", "integer"),
                ("embedding_model", "text"),
                ("version", "bigint"),
                ("created_at", "timestamptz"),
                ("updated_at", "timestamptz"),
            ),
            key=("id",),
            indexes=("owner_id, id",),
        ),
    ),
)

_COLUMNS = (
    "id, owner_id, name, description, status, chunk_size, chunk_overlap,"
    " refresh_interval_seconds, embedding_model, version, created_at, updated_at"
)


class PostgresProjectsView:
    """`ProjectsView` over the live `projects` table."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    def get(self, project_id: UUID) -> ProjectView | None:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                f"SELECT {_COLUMNS} FROM projects WHERE id = %s", (project_id,), prepare=True
            )
            row = curs.fetchone()
        return ProjectView(**row) if row else None

    def visible_to(self, principal: str, limit: int, after: UUID | None) -> list[ProjectView]:
        # Two views in one query: the access grants list the ids, projects the rows.
        columns = ", ".join(f"p.{c.strip()}" for c in _COLUMNS.split(","))
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                f"SELECT {columns}, g.role FROM access_grants g JOIN projects p"
                " ON p.id = g.project_id WHERE g.principal = %s AND g.project_id > %s"
                " ORDER BY g.project_id LIMIT %s",
                (principal, after or UUID(int=0), limit),
                prepare=True,
            )
            return [ProjectView(**row) for row in curs.fetchall()]
