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
                ("version", "bigint"),
                ("created_at", "timestamptz"),
                ("updated_at", "timestamptz"),
            ),
            key=("id",),
            indexes=("owner_id, id",),
        ),
    ),
)

_COLUMNS = "id, owner_id, name, description, status, version, created_at, updated_at"


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

    def owned_by(self, owner_id: UUID, limit: int, after: UUID | None) -> list[ProjectView]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                f"SELECT {_COLUMNS} FROM projects WHERE owner_id = %s AND id > %s"
                " ORDER BY id LIMIT %s",
                (owner_id, after or UUID(int=0), limit),
                prepare=True,
            )
            return [ProjectView(**row) for row in curs.fetchall()]
