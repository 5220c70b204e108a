"""A projection whose rows show how often each event was applied (not idempotent on purpose)."""

from __future__ import annotations

from typing import Any

from application.projections.base import Key, Projection, Rows
from application.projections.projects import ProjectsProjection
from infrastructure.postgres.views import TableSchema, ViewSchema

TABLE = "event_counts"
SCHEMA = ViewSchema(
    name=TABLE,
    tables=(
        TableSchema(
            name=TABLE,
            columns=(("originator_id", "uuid"), ("applied", "bigint"), ("versions", "text")),
            key=("originator_id",),
        ),
    ),
)


class CountingProjection(Projection):
    """Counts every project event it is given, and lists the versions in order."""

    name = TABLE
    topics = ProjectsProjection.topics

    def keys(self, event: Any) -> list[tuple[str, Key]]:
        return [(TABLE, (event.originator_id,))]

    def process(self, event: Any, rows: Rows) -> None:  # type: ignore[override]
        key = (event.originator_id,)
        row = rows.get(TABLE, key) or {"originator_id": event.originator_id, "applied": 0}
        row["applied"] += 1
        row["versions"] = (row.get("versions") or "") + f"{event.originator_version},"
        rows.put(TABLE, key, row)
