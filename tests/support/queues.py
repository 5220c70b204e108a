"""Job queues for tests, each on its own small pool: separate workers as
Postgres sees them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from eventsourcing.postgres import PostgresDatastore

from infrastructure.postgres.database import library_env
from infrastructure.postgres.queue import PostgresJobQueue

NewQueue = Callable[[], PostgresJobQueue]


@contextmanager
def queue_factory(url: str) -> Iterator[NewQueue]:
    """`make()` gives a new queue (tables created) on `url`; pools closed at exit."""
    env = library_env(url)
    datastores: list[PostgresDatastore] = []

    def make() -> PostgresJobQueue:
        datastore = PostgresDatastore(
            env["POSTGRES_DBNAME"],
            env["POSTGRES_HOST"],
            env["POSTGRES_PORT"],
            env["POSTGRES_USER"],
            env["POSTGRES_PASSWORD"],
            pool_size=1,
            max_overflow=2,
        )
        datastores.append(datastore)
        queue = PostgresJobQueue(datastore)
        queue.create_tables()
        return queue

    try:
        yield make
    finally:
        for datastore in datastores:
            datastore.close()
