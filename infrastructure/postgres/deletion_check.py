"""The deletion report's Postgres check: no view row refers to a deleted project.

Every table of every registered view is searched for the project id and its
URL ids: columns named `project_id` / `url_id`, and the `id` of tables whose
rows are projects or URLs. A second check looks for queued jobs of its URLs.
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Identifier

from application.audit.ports import Finding
from infrastructure.postgres.views import ViewSchema

# Tables whose `id` is a project's or a URL's id.
ID_OF = {
    "projects": "project",
    "access_projects": "project",
    "urls": "url",
    "scheduler_urls": "url",
}
COLUMN_OF = {"project_id": "project", "url_id": "url"}


class ViewDeletionCheck:
    """A `DeletionCheck` over the Postgres views."""

    name = "Postgres views"

    def __init__(self, datastore: PostgresDatastore, schemas: Sequence[ViewSchema]) -> None:
        self.datastore = datastore
        self.schemas = schemas

    def targets(self) -> list[tuple[str, str, str]]:
        """(table, column, what) for every column that may refer to a project or URL."""
        found = []
        for schema in self.schemas:
            for table in schema.tables:
                for column, _ in table.columns:
                    what = COLUMN_OF.get(column)
                    if column == "id":
                        what = ID_OF.get(table.name)
                    if what is not None:
                        found.append((table.name, column, what))
        return found

    def run(self, project_id: UUID, url_ids: Sequence[UUID]) -> Finding:
        ids = {"project": [project_id], "url": list(url_ids)}
        left = []
        with self.datastore.transaction(commit=False) as curs:
            for table, column, what in self.targets():
                curs.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (table,))
                row = curs.fetchone()
                if not row or not row["present"]:
                    continue
                curs.execute(
                    SQL("SELECT count(*) AS n FROM {} WHERE {} = ANY(%s)").format(
                        Identifier(table), Identifier(column)
                    ),
                    (ids[what],),
                )
                count = curs.fetchone()
                if count and count["n"]:
                    left.append(f"{table}.{column}: {count['n']} rows refer to the {what}")
        checked = len(self.targets())
        if left:
            return Finding(self.name, False, f"{len(left)} of {checked} columns still refer", left)
        return Finding(self.name, True, f"no row in {checked} columns refers to it")


class JobQueueDeletionCheck:
    """A `DeletionCheck`: no job of the project's URLs is still queued."""

    name = "job queue"

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    def run(self, project_id: UUID, url_ids: Sequence[UUID]) -> Finding:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT kind, count(*) AS n FROM trawl_jobs WHERE subject_id = ANY(%s)"
                " GROUP BY kind ORDER BY kind",
                (list(url_ids),),
            )
            rows = curs.fetchall()
        if rows:
            left = [f"{row['n']} {row['kind']} jobs still queued" for row in rows]
            return Finding(self.name, False, "jobs of its URLs are queued", left)
        return Finding(self.name, True, "no job of its URLs is queued")
