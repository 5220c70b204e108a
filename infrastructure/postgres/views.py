"""Postgres tables of the read models, and a batch unit of work over them.

Each view's tables are described by a `TableSchema`; a view can be built
under a suffix (`__rebuild`) beside the live one and swapped in. The position
a view has read up to lives in `trawl_view_positions`, written in the same
transaction as its rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Composed, Identifier

from application.projections.base import Key, Row

POSITIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS trawl_view_positions ("
    " view text PRIMARY KEY, position bigint NOT NULL DEFAULT 0,"
    " updated_at timestamptz NOT NULL DEFAULT now())",
    # The shape (fingerprint of the tables) each view was built with: a view
    # whose code changed its tables is rebuilt at start (see Projector.setup).
    "ALTER TABLE trawl_view_positions ADD COLUMN IF NOT EXISTS shape text",
    "CREATE TABLE IF NOT EXISTS trawl_parked_events ("
    " view text NOT NULL, position bigint NOT NULL, topic text NOT NULL,"
    " error text NOT NULL, parked_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (view, position))",
)
CHANNEL = "trawl_views"


@dataclass(frozen=True)
class TableSchema:
    name: str
    columns: Sequence[tuple[str, str]]
    key: Sequence[str]
    indexes: Sequence[str] = ()  # column lists, e.g. "owner_id, id"

    def key_arrays(self) -> Composed:
        """Typed array parameters, one per key column, for unnest()."""
        types = dict(self.columns)
        return SQL(", ").join(
            SQL("%b::{}[]").format(SQL(types[c]))
            for c in self.key  # type: ignore[arg-type]
        )

    def ddl(self, suffix: str) -> list[Composed]:
        table = Identifier(self.name + suffix)
        columns = SQL(", ").join(
            SQL("{} {}").format(Identifier(c), SQL(t))
            for c, t in self.columns  # type: ignore[arg-type]
        )
        statements = [
            SQL("CREATE TABLE IF NOT EXISTS {} ({}, PRIMARY KEY ({}))").format(
                table, columns, SQL(", ").join(map(Identifier, self.key))
            )
        ]
        # A column added to a view since its table was created (additive only):
        # existing databases get it empty, and the projection fills new rows.
        statements += [
            SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}").format(
                table,
                Identifier(c),
                SQL(t),  # type: ignore[arg-type]
            )
            for c, t in self.columns
            if c not in self.key
        ]
        for number, index in enumerate(self.indexes):
            statements.append(
                SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                    Identifier(f"{self.name}{suffix}_ix{number}"),
                    table,
                    SQL(index),  # type: ignore[arg-type]
                )
            )
        return statements


@dataclass(frozen=True)
class ViewSchema:
    name: str
    tables: Sequence[TableSchema]

    def table(self, name: str) -> TableSchema:
        return next(t for t in self.tables if t.name == name)

    @property
    def shape(self) -> str:
        """A fingerprint of the tables: changes whenever a column, key or index does."""
        text = repr([(t.name, list(t.columns), list(t.key), list(t.indexes)) for t in self.tables])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def create_view(curs: Cursor[DictRow], schema: ViewSchema, suffix: str = "") -> None:
    for table in schema.tables:
        for statement in table.ddl(suffix):
            curs.execute(statement)
    curs.execute(
        "INSERT INTO trawl_view_positions (view, shape) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (schema.name + suffix, schema.shape),
    )


def stored_shape(curs: Cursor[DictRow], view: str) -> str | None:
    curs.execute("SELECT shape FROM trawl_view_positions WHERE view = %s", (view,))
    row = curs.fetchone()
    return row["shape"] if row else None


def drop_view(curs: Cursor[DictRow], schema: ViewSchema, suffix: str) -> None:
    for table in schema.tables:
        curs.execute(SQL("DROP TABLE IF EXISTS {}").format(Identifier(table.name + suffix)))
    curs.execute("DELETE FROM trawl_view_positions WHERE view = %s", (schema.name + suffix,))


def read_position(curs: Cursor[DictRow], view: str) -> int:
    curs.execute("SELECT position FROM trawl_view_positions WHERE view = %s", (view,))
    row = curs.fetchone()
    return int(row["position"]) if row else 0


def write_position(curs: Cursor[DictRow], view: str, position: int) -> None:
    curs.execute(
        "UPDATE trawl_view_positions SET position = %s, updated_at = now() WHERE view = %s",
        (position, view),
    )
    # Delivered at commit: wakes every API process waiting for this position.
    curs.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"{view}:{position}"))


@dataclass
class BatchRows:
    """`Rows` for one batch: bulk-loaded, changed in memory, flushed once."""

    curs: Cursor[DictRow]
    schema: ViewSchema
    suffix: str = ""
    _rows: dict[tuple[str, Key], Row | None] = field(default_factory=dict)
    _dirty: set[tuple[str, Key]] = field(default_factory=set)
    _wiped: list[tuple[str, str, Any]] = field(default_factory=list)

    def load(self, wanted: Iterable[tuple[str, Key]]) -> None:
        by_table: dict[str, list[Key]] = {}
        for table, key in wanted:
            if (table, key) not in self._rows:
                self._rows[(table, key)] = None
                by_table.setdefault(table, []).append(key)
        for table, keys in by_table.items():
            spec = self.schema.table(table)
            key_columns = SQL(", ").join(map(Identifier, spec.key))
            self.curs.execute(
                SQL("SELECT * FROM {} WHERE ({}) IN (SELECT * FROM unnest({}))").format(
                    Identifier(table + self.suffix), key_columns, spec.key_arrays()
                ),
                [list(column) for column in zip(*keys, strict=True)],
            )
            for row in self.curs.fetchall():
                # A row wiped earlier in this batch stays gone, even if first read now.
                if not any(t == table and row[c] == v for t, c, v in self._wiped):
                    self._rows[(table, tuple(row[c] for c in spec.key))] = dict(row)

    def get(self, table: str, key: Key) -> Row | None:
        if (table, key) not in self._rows:  # not announced by keys(): load it now
            self.load([(table, key)])
        row = self._rows.get((table, key))
        return dict(row) if row is not None else None

    def put(self, table: str, key: Key, row: Row) -> None:
        self._rows[(table, key)] = dict(row)
        self._dirty.add((table, key))

    def delete(self, table: str, key: Key) -> None:
        self._rows[(table, key)] = None
        self._dirty.add((table, key))

    def delete_all(self, table: str, column: str, value: Any) -> None:
        for (name, key), row in self._rows.items():
            if name == table and row is not None and row.get(column) == value:
                self._rows[(name, key)] = None
                self._dirty.discard((name, key))
        self._wiped.append((table, column, value))

    def flush(self) -> None:
        for table, column, value in self._wiped:
            self.curs.execute(
                SQL("DELETE FROM {} WHERE {} = %s").format(
                    Identifier(table + self.suffix), Identifier(column)
                ),
                (value,),
            )
        self._wiped.clear()
        for spec in self.schema.tables:
            changed = [(k, self._rows[(t, k)]) for t, k in self._dirty if t == spec.name]
            upserts = [row for _, row in changed if row is not None]
            deletes = [key for key, row in changed if row is None]
            if deletes:
                self._delete(spec, deletes)
            if upserts:
                self._upsert(spec, upserts)
        self._dirty.clear()

    def _delete(self, spec: TableSchema, keys: list[Key]) -> None:
        self.curs.execute(
            SQL("DELETE FROM {} WHERE ({}) IN (SELECT * FROM unnest({}))").format(
                Identifier(spec.name + self.suffix),
                SQL(", ").join(map(Identifier, spec.key)),
                spec.key_arrays(),
            ),
            [list(column) for column in zip(*keys, strict=True)],
        )

    def _upsert(self, spec: TableSchema, rows: list[Row]) -> None:
        names = [c for c, _ in spec.columns]
        others = [c for c in names if c not in spec.key]
        # A table of key columns only has nothing to update on a conflict.
        action = "DO UPDATE SET {updates}" if others else "DO NOTHING"
        statement = SQL(
            "INSERT INTO {table} ({columns}) SELECT * FROM unnest({params})"
            " ON CONFLICT ({key}) " + action
        ).format(
            table=Identifier(spec.name + self.suffix),
            columns=SQL(", ").join(map(Identifier, names)),
            params=SQL(", ").join(
                SQL("%b::{}[]").format(SQL(t))
                for _, t in spec.columns  # type: ignore[arg-type]
            ),
            key=SQL(", ").join(map(Identifier, spec.key)),
            updates=SQL(", ").join(SQL("{0} = EXCLUDED.{0}").format(Identifier(c)) for c in others),
        )
        columns: list[list[Any]] = [[row.get(c) for row in rows] for c in names]
        self.curs.execute(statement, columns)
