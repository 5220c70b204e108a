"""UPDATE only the columns a batch changed, for rows known to exist.

An upsert sends every column of every row; a catch-up mostly changes two or
three columns of rows that exist (a rename: name, version, updated_at).
Rows are grouped by the set of columns they change, one `UPDATE ... FROM
unnest(...)` per group; rows that changed nothing are not sent at all.
"""

from __future__ import annotations

import contextlib
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from application.projections.base import Row

if TYPE_CHECKING:
    from infrastructure.postgres.views import TableSchema


def update_changed(
    curs: Cursor[DictRow], spec: TableSchema, suffix: str, pairs: list[tuple[Row, Row]]
) -> list[Row]:
    """Write each (row as stored, row now) as an UPDATE of its changed columns;
    the rows not found to update (the caller upserts them)."""
    types = dict(spec.columns)
    others = [c for c, _ in spec.columns if c not in spec.key]
    groups: dict[tuple[str, ...], list[Row]] = {}
    values = itemgetter(*others) if len(others) > 1 else None
    for base, row in pairs:
        try:  # unchanged values are the very same objects: tuples compare them in C
            now, before = values(row), values(base)  # type: ignore[misc]
        except (KeyError, TypeError):  # a column left out (or a single one)
            now, before = tuple(map(row.get, others)), tuple(map(base.get, others))
        if now == before:
            continue
        changed = tuple(c for c, a, b in zip(others, now, before, strict=True) if a != b)
        if changed:
            groups.setdefault(changed, []).append(row)
    missed: list[Row] = []
    for changed, rows in groups.items():
        names = [*spec.key, *changed]
        statement = SQL(
            "UPDATE {t} SET {sets} FROM unnest({params}) AS u({names}) WHERE {on}"
        ).format(
            t=Identifier(spec.name + suffix),
            sets=SQL(", ").join(SQL("{0} = u.{0}").format(Identifier(c)) for c in changed),
            params=SQL(", ").join(SQL("%b::{}[]").format(SQL(types[c])) for c in names),  # type: ignore[arg-type]
            names=SQL(", ").join(map(Identifier, names)),
            on=SQL(" AND ").join(
                SQL("{t}.{c} = u.{c}").format(t=Identifier(spec.name + suffix), c=Identifier(c))
                for c in spec.key
            ),
        )
        curs.execute(statement, columns_of(rows, names))
        if curs.rowcount != len(rows):  # not all there after all: upserts are idempotent
            missed.extend(rows)
    return missed


def columns_of(rows: list[Row], names: list[str]) -> list[list[Any]]:
    """Rows to one list per column (a missing key is NULL), transposed in C."""
    if len(names) > 1:  # (itemgetter of one name gives values, not tuples)
        with contextlib.suppress(KeyError):  # else a projection left a column out
            return [list(c) for c in zip(*map(itemgetter(*names), rows), strict=True)]
    return [[row.get(c) for row in rows] for c in names]
