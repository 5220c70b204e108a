"""A job queue on a database of its own, emptied before each test.

`new_queue()` gives another queue with its own connection pool: another
worker process, as far as Postgres can tell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest
from eventsourcing.postgres import PostgresDatastore

from infrastructure.postgres.database import library_env
from infrastructure.postgres.queue import PostgresJobQueue
from tests.support import databases

NewQueue = Callable[[], PostgresJobQueue]


@pytest.fixture(scope="session")
def queue_database_url(postgres_server_url: str) -> Iterator[str]:
    with databases.fresh_database(postgres_server_url) as url:
        yield url


@pytest.fixture
def url(queue_database_url: str) -> str:
    with psycopg.connect(queue_database_url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS trawl_jobs")
    return queue_database_url


@pytest.fixture
def new_queue(url: str) -> Iterator[NewQueue]:
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

    yield make
    for datastore in datastores:
        datastore.close()


@pytest.fixture
def queue(new_queue: NewQueue) -> PostgresJobQueue:
    return new_queue()
