"""A projector's memory of its view's rows, between batches.

A batch reads the rows its events concern before applying them; across a
catch-up or a rebuild, the same rows come back batch after batch. The cache
keeps them (and which keys have no row) as this process last wrote them, so
later batches skip that read.

It is only right while nobody else wrote the view. Every batch writes the
view's position row, so that row's `xmin` (the id of the transaction that
last wrote it) marks the view's state: a batch stages its rows under the
mark its own transaction produced, and the next batch, which reads the mark
first, under the view's advisory lock, takes them in only if the mark is still
that one. A batch that rolled back, another process's projector, a rebuild's
swap or a check all leave another mark: the staged rows are dropped, and so is
the cache unless the mark is still the one it was built under.
"""

from __future__ import annotations

from typing import Any

from application.projections.base import Key, Row

Entry = tuple[str, Key]


class RowCache:
    """Rows of one view by (table, key); None = known to have no row."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.rows: dict[Entry, Row | None] = {}
        self._mark: str | None = None
        self._staged: tuple[str, dict[Entry, Row | None], list[tuple[str, str, Any]]] | None = None
        # Deferred mode (a rebuild's private tables): rows changed but not yet
        # written, and whether the tables hold any row written from here.
        self.unwritten: set[Entry] = set()
        self.written = False

    def validate(self, mark: str) -> None:
        """Called at the start of a batch with the view's current mark."""
        staged, self._staged = self._staged, None
        if staged is not None and staged[0] == mark:  # our last batch committed
            self._merge(staged[1], staged[2])
            if self.full:  # bounded memory: start again
                self.rows.clear()
        elif mark != self._mark:  # someone else wrote the view (or it was swapped)
            if self.unwritten:
                raise RuntimeError("a view changed under its rebuild: rows not written are lost")
            self.rows.clear()
        self._mark = mark

    @property
    def full(self) -> bool:
        return len(self.rows) > self.limit

    def defer(
        self, mark: str, rows: dict[Entry, Row | None], dirty: set[Entry], wiped: list[Any]
    ) -> None:
        """Deferred mode: take a batch's rows at once; the changed ones stay
        `unwritten` until the projector writes them (`write_deferred`)."""
        self._merge(rows, wiped)
        self.unwritten |= dirty
        self._mark = mark

    def _merge(self, rows: dict[Entry, Row | None], wiped: list[Any]) -> None:
        for table, column, value in wiped:
            for entry, row in self.rows.items():
                if entry[0] == table and row is not None and row.get(column) == value:
                    self.rows[entry] = None
        self.rows.update(rows)

    def stage(self, mark: str, rows: dict[Entry, Row | None], wiped: list[Any]) -> None:
        """A batch's rows as written, under the mark its own transaction produced."""
        self._staged = (mark, rows, wiped)

    def forget(self) -> None:
        """Drop everything (e.g. after events applied one by one)."""
        self.rows.clear()
        self._staged = None
        self._mark = None
        self.unwritten.clear()
