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
from psycopg.rows import DictRow, tuple_row
from psycopg.sql import SQL, Composed, Identifier, Literal

from application.projections.base import Key, Row
from infrastructure.postgres.row_cache import RowCache
from infrastructure.postgres.updates import columns_of, update_changed


def add_column(table: str, column: str, kind: str) -> Composed:
    """Add a column the table lacks (a DO block: no lock when it is there).

    `ALTER TABLE ... ADD COLUMN IF NOT EXISTS` takes an ACCESS EXCLUSIVE lock
    even when the column exists. A process starting beside a running server
    (`trawl rebuild`) that took it on `trawl_view_positions` before a view's
    advisory lock deadlocked with a projector batch holding that advisory
    lock and reading the positions."""
    return SQL(
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_attribute"
        " WHERE attrelid = to_regclass(quote_ident({})) AND attname = {} AND NOT attisdropped)"
        " THEN ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}; END IF; END $$"
    ).format(
        Literal(table),
        Literal(column),
        Identifier(table),
        Identifier(column),
        SQL(kind),  # type: ignore[arg-type]
    )


POSITIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS trawl_view_positions ("
    " view text PRIMARY KEY, position bigint NOT NULL DEFAULT 0,"
    " updated_at timestamptz NOT NULL DEFAULT now())",
    # The shape (fingerprint of the tables) each view was built with: a view
    # whose code changed its tables is rebuilt at start (see Projector.setup).
    add_column("trawl_view_positions", "shape", "text"),
    "CREATE TABLE IF NOT EXISTS trawl_parked_events ("
    " view text NOT NULL, position bigint NOT NULL, topic text NOT NULL,"
    " error text NOT NULL, parked_at timestamptz NOT NULL DEFAULT now(),"
    " PRIMARY KEY (view, position))",
)
CHANNEL = "trawl_views"
_UNSEEN: Any = object()  # a dict.get default: "no entry", unlike None ("no row")


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

    def ddl(self, suffix: str, indexes: bool = True) -> list[Composed]:
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
            add_column(self.name + suffix, c, t) for c, t in self.columns if c not in self.key
        ]
        return statements + (self.index_ddl(suffix) if indexes else [])

    def index_ddl(self, suffix: str) -> list[Composed]:
        """The secondary indexes (a rebuild builds them once its tables are full)."""
        return [
            SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                Identifier(f"{self.name}{suffix}_ix{number}"),
                Identifier(self.name + suffix),
                SQL(index),  # type: ignore[arg-type]
            )
            for number, index in enumerate(self.indexes)
        ]


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


def create_view(
    curs: Cursor[DictRow], schema: ViewSchema, suffix: str = "", indexes: bool = True
) -> None:
    """The view's tables (secondary indexes too unless `indexes` is False:
    a rebuild adds them once its tables are full, see `create_indexes`)."""
    for table in schema.tables:
        for statement in table.ddl(suffix, indexes):
            curs.execute(statement)
    curs.execute(
        "INSERT INTO trawl_view_positions (view, shape) VALUES (%s, %s) ON CONFLICT DO NOTHING",
        (schema.name + suffix, schema.shape),
    )


def create_indexes(curs: Cursor[DictRow], schema: ViewSchema, suffix: str) -> None:
    for table in schema.tables:
        for statement in table.index_ddl(suffix):
            curs.execute(statement)


def stored_shape(curs: Cursor[DictRow], view: str) -> str | None:
    curs.execute("SELECT shape FROM trawl_view_positions WHERE view = %s", (view,))
    row = curs.fetchone()
    return row["shape"] if row else None


def drop_view(curs: Cursor[DictRow], schema: ViewSchema, suffix: str) -> None:
    for table in schema.tables:
        curs.execute(SQL("DROP TABLE IF EXISTS {}").format(Identifier(table.name + suffix)))
    curs.execute("DELETE FROM trawl_view_positions WHERE view = %s", (schema.name + suffix,))


def read_mark(curs: Cursor[DictRow], view: str) -> tuple[int, str]:
    """The view's position and the id of the transaction that last wrote it."""
    curs.execute(
        "SELECT position, xmin::text AS mark FROM trawl_view_positions WHERE view = %s", (view,)
    )
    row = curs.fetchone()
    return (int(row["position"]), row["mark"]) if row else (0, "")


def read_marks(curs: Cursor[DictRow], names: Sequence[str]) -> list[tuple[int, str]]:
    """`read_mark` of several views in one query, in the order of `names`."""
    if len(names) == 1:
        return [read_mark(curs, names[0])]
    curs.execute(
        "SELECT view, position, xmin::text AS mark FROM trawl_view_positions WHERE view = ANY(%s)",
        (list(names),),
    )
    found = {row["view"]: (int(row["position"]), row["mark"]) for row in curs.fetchall()}
    return [found.get(name, (0, "")) for name in names]


def write_positions(curs: Cursor[DictRow], moves: Sequence[tuple[str, int, bool]]) -> str:
    """`write_position` of several views, (view, position, notify), in one
    query; the new mark (one transaction: the same for every view)."""
    if len(moves) == 1:
        return write_position(curs, *moves[0])
    curs.execute(
        "UPDATE trawl_view_positions p SET position = m.position, updated_at = now()"
        " FROM unnest(%s::text[], %s::bigint[]) AS m(view, position) WHERE p.view = m.view"
        " RETURNING p.xmin::text AS mark",
        ([view for view, _, _ in moves], [position for _, position, _ in moves]),
    )
    rows = curs.fetchall()
    told = [f"{view}:{position}" for view, position, notify in moves if notify]
    if told:  # delivered at commit, one notification per view (see write_position)
        curs.execute("SELECT pg_notify(%s, told) FROM unnest(%s::text[]) AS told", (CHANNEL, told))
    return rows[0]["mark"] if rows else ""


def parked_counts(curs: Cursor[DictRow]) -> dict[str, int]:
    """Events each view set aside (`trawl_parked_events`)."""
    curs.execute("SELECT view, count(*) AS parked FROM trawl_parked_events GROUP BY view")
    return {r["view"]: int(r["parked"]) for r in curs.fetchall()}


def settle_parked(curs: Cursor[DictRow], view: str, rebuilt: str) -> None:
    """A rebuild swapped in: the events the view had parked were applied again
    (or parked again, under the rebuild's name, which become the view's)."""
    forget_parked(curs, view)
    curs.execute("UPDATE trawl_parked_events SET view = %s WHERE view = %s", (view, rebuilt))


def forget_parked(curs: Cursor[DictRow], view: str) -> None:
    """Drop the view's parked events (a rebuild's, before it applies every event again)."""
    curs.execute("DELETE FROM trawl_parked_events WHERE view = %s", (view,))


def read_position(curs: Cursor[DictRow], view: str) -> int:
    curs.execute("SELECT position FROM trawl_view_positions WHERE view = %s", (view,))
    row = curs.fetchone()
    return int(row["position"]) if row else 0


def write_position(curs: Cursor[DictRow], view: str, position: int, notify: bool = True) -> str:
    """Move the view's position; the new mark (this transaction's id, see read_mark).
    `notify` wakes the processes waiting for the view (none wait for a rebuild's)."""
    curs.execute(
        "UPDATE trawl_view_positions SET position = %s, updated_at = now() WHERE view = %s"
        " RETURNING xmin::text AS mark",
        (position, view),
    )
    row = curs.fetchone()
    if notify:  # delivered at commit: wakes every API process waiting for this position
        curs.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"{view}:{position}"))
    return row["mark"] if row else ""


@dataclass
class BatchRows:
    """`Rows` for one batch: bulk-loaded, changed in memory, flushed once."""

    curs: Cursor[DictRow]
    schema: ViewSchema
    suffix: str = ""
    cache: RowCache | None = None  # rows known from earlier batches (a valid cache)
    defer: bool = False  # flush() writes only wipes; the changed rows stay in `dirty`
    _rows: dict[tuple[str, Key], Row | None] = field(default_factory=dict)
    _dirty: set[tuple[str, Key]] = field(default_factory=set)
    _wiped: list[tuple[str, str, Any]] = field(default_factory=list)
    _stored: dict[tuple[str, Key], Row] = field(default_factory=dict)  # rows as in the tables
    wiped: list[tuple[str, str, Any]] = field(default_factory=list)  # every wipe of the batch

    def load(self, wanted: Iterable[tuple[str, Key]]) -> None:
        by_table: dict[str, list[Key]] = {}
        known = self.cache.rows if self.cache is not None else {}
        rows, wiped = self._rows, self.wiped
        # Rows as stored, for updates of their changed columns (deferred rows are not flushed).
        stored: dict[tuple[str, Key], Row] = {} if self.defer else self._stored
        for entry in wanted:  # one lookup per dict: hashing UUID keys is not cheap
            if entry in rows:
                continue
            row = known.get(entry, _UNSEEN)
            if row is _UNSEEN:
                rows[entry] = None
                by_table.setdefault(entry[0], []).append(entry[1])
                continue
            # Rows are never changed in place (get/put copy), so sharing is safe.
            if wiped and row is not None and self._is_wiped(entry[0], row):
                row = None
            rows[entry] = row
            if row is not None:
                stored[entry] = row
        for table, keys in by_table.items():
            spec = self.schema.table(table)
            key_columns = SQL(", ").join(map(Identifier, spec.key))
            names = [c for c, _ in spec.columns]
            positions = [names.index(c) for c in spec.key]
            # Plain tuples zipped with the column names: cheaper than dict rows.
            with self.curs.connection.cursor(row_factory=tuple_row) as raw:
                raw.execute(
                    SQL("SELECT {} FROM {} WHERE ({}) IN (SELECT * FROM unnest({}))").format(
                        SQL(", ").join(map(Identifier, names)),
                        Identifier(table + self.suffix),
                        key_columns,
                        spec.key_arrays(),
                    ),
                    [list(column) for column in zip(*keys, strict=True)],
                )
                found = raw.fetchall()
            gone = [(names.index(c), v) for t, c, v in self._wiped if t == table]
            for values in found:
                # A row wiped earlier in this batch stays gone, even if first read now.
                if gone and any(values[i] == v for i, v in gone):
                    continue
                entry = (table, tuple(values[i] for i in positions))
                self._rows[entry] = self._stored[entry] = dict(zip(names, values, strict=True))

    def _is_wiped(self, table: str, row: Row) -> bool:
        return any(t == table and row.get(c) == v for t, c, v in self.wiped)

    @property
    def dirty(self) -> set[tuple[str, Key]]:
        return self._dirty

    def write(self, rows: dict[tuple[str, Key], Row | None]) -> None:
        """Write these rows (None = delete) with the next `flush()`."""
        self._rows.update(rows)
        self._dirty.update(rows)

    @property
    def rows(self) -> dict[tuple[str, Key], Row | None]:
        """Every row this batch read or wrote, as it is after `flush()`."""
        return self._rows

    def get(self, table: str, key: Key) -> Row | None:
        entry = (table, key)
        row = self._rows.get(entry, _UNSEEN)
        if row is _UNSEEN:  # not announced by keys(): load it now
            self.load([entry])
            row = self._rows[entry]
        return dict(row) if row is not None else None  # type: ignore[arg-type]

    def put(self, table: str, key: Key, row: Row) -> None:
        entry = (table, key)
        self._rows[entry] = dict(row)
        self._dirty.add(entry)

    def delete(self, table: str, key: Key) -> None:
        self._rows[(table, key)] = None
        self._dirty.add((table, key))

    def delete_all(self, table: str, column: str, value: Any) -> None:
        for (name, key), row in self._rows.items():
            if name == table and row is not None and row.get(column) == value:
                self._rows[(name, key)] = None
                self._dirty.discard((name, key))
        self._wiped.append((table, column, value))
        self.wiped.append((table, column, value))

    def flush(self) -> None:
        for table, column, value in self._wiped:
            self.curs.execute(
                SQL("DELETE FROM {} WHERE {} = %s").format(
                    Identifier(table + self.suffix), Identifier(column)
                ),
                (value,),
            )
        self._wiped.clear()
        if self.defer:
            return
        # After a wipe, a row read before it may be gone: upsert everything.
        stored = {} if self.wiped else self._stored
        for spec in self.schema.tables:
            self._write(spec, stored)
        for entry in self._dirty:  # what the tables hold now
            if (row := self._rows[entry]) is None:
                self._stored.pop(entry, None)
            else:
                self._stored[entry] = row
        self._dirty.clear()

    def _write(self, spec: TableSchema, stored: dict[tuple[str, Key], Row]) -> None:
        upserts, updates, deletes = [], [], []
        for entry in self._dirty:
            if entry[0] == spec.name:
                row, before = self._rows[entry], stored.get(entry)
                if row is None:
                    deletes.append(entry[1])
                elif before is None:
                    upserts.append(row)
                else:
                    updates.append((before, row))
        if deletes:
            self._delete(spec, deletes)
        if updates:  # rows known to exist: only their changed columns
            upserts += update_changed(self.curs, spec, self.suffix, updates)
        if upserts:
            self._upsert(spec, upserts)

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
        self.curs.execute(statement, columns_of(rows, names))
