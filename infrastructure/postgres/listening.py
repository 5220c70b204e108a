"""Connections for LISTEN: each of its own, outside the datastore's pool.

A listener (a projector following the log, the position watcher) holds its
connection for as long as it runs. Taken from the pool, the listeners of
`trawl serve` kept that many connections from the work: with a rebuild
beside a live projector, a command waited 10 s for a connection and failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import psycopg
from eventsourcing.postgres import PostgresDatastore
from psycopg.rows import DictRow


@contextmanager
def listener(datastore: PostgresDatastore) -> Iterator[psycopg.Connection[DictRow]]:
    """A new autocommit connection to the datastore's database, closed on exit."""
    pool = datastore.pool
    # The pool's own settings (a string and a dict here, as the library builds it).
    kwargs: dict[str, Any] = dict(cast("dict[str, Any]", pool.kwargs))
    if pool.get_password_func is not None:
        kwargs["password"] = pool.get_password_func()
    connection: psycopg.Connection[DictRow] = psycopg.connect(
        cast("str", pool.conninfo), autocommit=True, connect_timeout=10, **kwargs
    )
    try:
        yield connection
    finally:
        connection.close()
