"""What a projection is: a pure function from events to row changes.

A projection reads the rows an event concerns through `Rows` and writes new
versions of them; an adapter (Postgres, or a dict in unit tests) loads those
rows in bulk, applies a whole batch, and records the position it has read up
to in the same transaction. Events outside `topics` are skipped but count as
read, so a view's position answers "has it seen P?".
"""

from __future__ import annotations

from collections.abc import Hashable
from functools import singledispatchmethod
from typing import Any, ClassVar, Protocol

from eventsourcing.domain import DomainEventProtocol

Key = tuple[Hashable, ...]
Row = dict[str, Any]


class dispatchmethod(singledispatchmethod):  # type: ignore[type-arg]  # noqa: N801 - a decorator
    """`singledispatchmethod` whose attribute access and dispatch are cheap.

    On Python 3.11 every `self.process` builds a new wrapper with
    `update_wrapper` (about 1 us), and `dispatch` looks the class up in a
    WeakKeyDictionary in Python; both are paid once per event and view on a
    replay. Here the implementation per event class is kept in a plain dict,
    emptied whenever another one is registered.
    """

    def __init__(self, func: Any) -> None:
        super().__init__(func)
        self._impls: dict[type[Any], Any] = {}

    def register(self, cls: Any, method: Any = None) -> Any:
        self._impls.clear()
        return super().register(cls, method)

    def __get__(self, obj: Any, cls: type[Any] | None = None) -> Any:
        impls, dispatch = self._impls, self.dispatcher.dispatch

        def method(event: Any, *args: Any, **kwargs: Any) -> Any:
            kind = event.__class__
            impl = impls.get(kind)
            if impl is None:
                impl = impls[kind] = dispatch(kind)
            return impl(obj, event, *args, **kwargs)

        return method


class Rows(Protocol):
    """The rows of a view, as a unit of work over one batch."""

    def get(self, table: str, key: Key) -> Row | None: ...

    def put(self, table: str, key: Key, row: Row) -> None: ...

    def delete(self, table: str, key: Key) -> None: ...

    def delete_all(self, table: str, column: str, value: Any) -> None:
        """Delete every row whose `column` equals `value`, now and in this batch.

        For terminal facts (a deleted project): nothing may put such a row
        again afterwards.
        """
        ...


class Projection:
    """Base of every read-model projection."""

    name: ClassVar[str]
    topics: ClassVar[tuple[str, ...]]

    def keys(self, event: DomainEventProtocol[Any]) -> list[tuple[str, Key]]:
        """The rows `process` will read for this event (loaded in bulk first)."""
        return []

    @dispatchmethod
    def process(self, event: DomainEventProtocol[Any], rows: Rows) -> None:
        """Apply one event; events of no interest change nothing."""


class DictRows:
    """`Rows` over plain dicts: the in-memory view for unit tests."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[Key, Row]] = {}

    def get(self, table: str, key: Key) -> Row | None:
        row = self.tables.get(table, {}).get(key)
        return dict(row) if row is not None else None

    def put(self, table: str, key: Key, row: Row) -> None:
        self.tables.setdefault(table, {})[key] = dict(row)

    def delete(self, table: str, key: Key) -> None:
        self.tables.get(table, {}).pop(key, None)

    def delete_all(self, table: str, column: str, value: Any) -> None:
        rows = self.tables.get(table, {})
        for key in [k for k, row in rows.items() if row.get(column) == value]:
            del rows[key]


def topics_of(*classes: type[Any]) -> tuple[str, ...]:
    """The stored topics of these event classes (what a projection subscribes to)."""
    return tuple(getattr(cls, "TOPIC") for cls in classes)  # noqa: B009
