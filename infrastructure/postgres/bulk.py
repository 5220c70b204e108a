"""COPY rows into a table nothing else has written yet (a rebuild's fresh tables)."""

from __future__ import annotations

from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from application.projections.base import Row
from infrastructure.postgres.views import TableSchema


def copy_rows(curs: Cursor[DictRow], spec: TableSchema, suffix: str, rows: list[Row]) -> bool:
    """COPY `rows` (binary) into the table; False, with nothing written, when
    Postgres refuses them (e.g. a value of another type than its column, which
    the caller's upsert would cast): the caller then writes them its own way."""
    names = [c for c, _ in spec.columns]
    statement = SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        Identifier(spec.name + suffix), SQL(", ").join(map(Identifier, names))
    )
    curs.execute("SAVEPOINT copy_rows")
    try:
        with curs.copy(statement) as copy:
            copy.set_types([t for _, t in spec.columns])
            for row in rows:
                copy.write_row([row.get(c) for c in names])
    except Exception:  # noqa: BLE001 - refused: nothing of it stays
        curs.execute("ROLLBACK TO SAVEPOINT copy_rows")
        return False
    curs.execute("RELEASE SAVEPOINT copy_rows")
    return True
