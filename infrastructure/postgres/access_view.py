"""The access read model in Postgres: schema, policy lookups, owner lists."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

from application.access import ProjectAccess
from application.shares.queries import LinkRow, ShareRow
from infrastructure.postgres.views import TableSchema, ViewSchema

SCHEMA = ViewSchema(
    name="access",
    tables=(
        TableSchema(
            "access_projects",
            (("project_id", "uuid"), ("owner_id", "uuid"), ("status", "text")),
            key=("project_id",),
        ),
        TableSchema(
            "access_grants",
            (
                ("project_id", "uuid"),
                ("principal", "text"),
                ("role", "text"),
                ("source_id", "uuid"),
            ),
            key=("project_id", "principal"),
            indexes=("principal, project_id",),
        ),
        TableSchema(
            "share_list",
            (
                ("id", "uuid"),
                ("project_id", "uuid"),
                ("kind", "text"),
                ("grantee_id", "uuid"),
                ("role", "text"),
                ("created_at", "timestamptz"),
            ),
            key=("id",),
            indexes=("project_id, id",),
        ),
        TableSchema(
            "link_list",
            (
                ("id", "uuid"),
                ("project_id", "uuid"),
                ("role", "text"),
                ("expires_at", "timestamptz"),
                ("created_at", "timestamptz"),
            ),
            key=("id",),
            indexes=("project_id, id",),
        ),
    ),
)


class PostgresAccessView:
    """`AccessView` and the owner's share/link lists, from Postgres."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    def _rows(self, sql: str, params: tuple[object, ...]) -> list[dict[str, object]]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(sql, params, prepare=True)
            return list(curs.fetchall())

    def project(self, project_id: UUID) -> ProjectAccess | None:
        rows = self._rows(
            "SELECT owner_id, status FROM access_projects WHERE project_id = %s", (project_id,)
        )
        return ProjectAccess(**rows[0]) if rows else None  # type: ignore[arg-type]

    def role(self, project_id: UUID, principal: str) -> str | None:
        rows = self._rows(
            "SELECT role FROM access_grants WHERE project_id = %s AND principal = %s",
            (project_id, principal),
        )
        return str(rows[0]["role"]) if rows else None

    def shares(self, project_id: UUID, limit: int, after: UUID | None) -> list[ShareRow]:
        rows = self._rows(
            "SELECT id, kind, grantee_id, role, created_at FROM share_list"
            " WHERE project_id = %s AND id > %s ORDER BY id LIMIT %s",
            (project_id, after or UUID(int=0), limit),
        )
        return [ShareRow(**row) for row in rows]  # type: ignore[arg-type]

    def links(self, project_id: UUID, limit: int, after: UUID | None) -> list[LinkRow]:
        rows = self._rows(
            "SELECT id, role, expires_at, created_at FROM link_list"
            " WHERE project_id = %s AND id > %s ORDER BY id LIMIT %s",
            (project_id, after or UUID(int=0), limit),
        )
        return [LinkRow(**row) for row in rows]  # type: ignore[arg-type]
