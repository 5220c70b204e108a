"""The unit of work a projector gives a projection: bulk loads, changes, one flush."""

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import DictRow, dict_row

from infrastructure.postgres import views
from infrastructure.postgres.views import BatchRows, TableSchema, ViewSchema

pytestmark = pytest.mark.integration

GRANTS = TableSchema(
    name="test_grants",
    columns=(("project_id", "uuid"), ("principal", "text"), ("role", "text")),
    key=("project_id", "principal"),
    indexes=("principal, project_id",),
)
SCHEMA = ViewSchema(name="test_grants", tables=(GRANTS,))


@pytest.fixture
def curs(url: str) -> Iterator[psycopg.Cursor[DictRow]]:
    with psycopg.connect(url, row_factory=dict_row) as conn, conn.cursor() as cursor:
        for statement in views.POSITIONS_DDL:
            cursor.execute(statement)
        cursor.execute("DROP TABLE IF EXISTS test_grants")
        views.create_view(cursor, SCHEMA)
        yield cursor


def grant(project: uuid.UUID, principal: str, role: str = "viewer") -> dict[str, Any]:
    return {"project_id": project, "principal": principal, "role": role}


def seed(curs: psycopg.Cursor[DictRow], *rows: dict[str, Any]) -> None:
    batch = BatchRows(curs, SCHEMA)
    for row in rows:
        batch.put("test_grants", (row["project_id"], row["principal"]), row)
    batch.flush()


def stored(curs: psycopg.Cursor[DictRow]) -> set[tuple[Any, ...]]:
    curs.execute("SELECT project_id, principal, role FROM test_grants")
    return {tuple(r.values()) for r in curs.fetchall()}


def test_rows_with_a_composite_key_load_in_bulk(curs: psycopg.Cursor[DictRow]) -> None:
    p1, p2 = uuid.uuid4(), uuid.uuid4()
    seed(curs, grant(p1, "user:a"), grant(p1, "user:b", "editor"), grant(p2, "user:a"))

    batch = BatchRows(curs, SCHEMA)
    batch.load([("test_grants", (p1, "user:b")), ("test_grants", (p2, "user:a"))])

    assert batch.get("test_grants", (p1, "user:b")) == grant(p1, "user:b", "editor")
    assert batch.get("test_grants", (p2, "user:a")) == grant(p2, "user:a")
    assert batch.get("test_grants", (p2, "user:zz")) is None


def test_changes_reach_the_table_only_on_flush(curs: psycopg.Cursor[DictRow]) -> None:
    p = uuid.uuid4()
    seed(curs, grant(p, "user:a"), grant(p, "user:b"))
    batch = BatchRows(curs, SCHEMA)

    batch.put("test_grants", (p, "user:a"), grant(p, "user:a", "editor"))
    batch.delete("test_grants", (p, "user:b"))
    batch.put("test_grants", (p, "user:c"), grant(p, "user:c"))
    assert stored(curs) == {(p, "user:a", "viewer"), (p, "user:b", "viewer")}

    batch.flush()

    assert stored(curs) == {(p, "user:a", "editor"), (p, "user:c", "viewer")}


def test_delete_all_removes_rows_that_were_never_loaded(curs: psycopg.Cursor[DictRow]) -> None:
    gone, kept = uuid.uuid4(), uuid.uuid4()
    seed(curs, grant(gone, "user:a"), grant(gone, "user:b"), grant(kept, "user:a"))

    batch = BatchRows(curs, SCHEMA)
    batch.delete_all("test_grants", "project_id", gone)
    batch.flush()

    assert stored(curs) == {(kept, "user:a", "viewer")}


def test_after_delete_all_the_batch_no_longer_sees_those_rows(
    curs: psycopg.Cursor[DictRow],
) -> None:
    gone = uuid.uuid4()
    seed(curs, grant(gone, "user:a"), grant(gone, "user:b"))
    batch = BatchRows(curs, SCHEMA)
    batch.load([("test_grants", (gone, "user:a"))])

    batch.delete_all("test_grants", "project_id", gone)

    # "Now and in this batch": loaded before or read for the first time after.
    assert batch.get("test_grants", (gone, "user:a")) is None
    assert batch.get("test_grants", (gone, "user:b")) is None


def test_a_row_read_after_delete_all_is_not_written_back(curs: psycopg.Cursor[DictRow]) -> None:
    gone = uuid.uuid4()
    seed(curs, grant(gone, "user:a"))
    batch = BatchRows(curs, SCHEMA)
    batch.delete_all("test_grants", "project_id", gone)

    row = batch.get("test_grants", (gone, "user:a"))
    if row is not None:  # a projection updating what it read, as projections do
        batch.put("test_grants", (gone, "user:a"), {**row, "role": "editor"})
    batch.flush()

    assert stored(curs) == set()


def versions(curs: psycopg.Cursor[DictRow]) -> dict[str, tuple[str, str]]:
    """Each row's role and the transaction that last wrote it."""
    curs.execute("SELECT principal, role, xmin::text AS x FROM test_grants")
    return {r["principal"]: (r["role"], r["x"]) for r in curs.fetchall()}


def test_rows_read_are_updated_only_where_they_changed(curs: psycopg.Cursor[DictRow]) -> None:
    project = uuid.uuid4()
    seed(curs, grant(project, "user:a"), grant(project, "user:b"))
    curs.connection.commit()
    before = versions(curs)
    batch = BatchRows(curs, SCHEMA)
    batch.load([("test_grants", (project, "user:a")), ("test_grants", (project, "user:b"))])
    for principal, role in (("user:a", "viewer"), ("user:b", "editor")):  # a: unchanged
        row = batch.get("test_grants", (project, principal))
        assert row is not None
        batch.put("test_grants", (project, principal), {**row, "role": role})
    batch.flush()
    curs.connection.commit()

    after = versions(curs)
    assert after["user:a"] == before["user:a"]  # not written at all
    assert after["user:b"][0] == "editor" and after["user:b"][1] != before["user:b"][1]
