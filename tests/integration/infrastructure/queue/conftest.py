"""A job queue on a database of its own, emptied before each test.

`new_queue()` gives another queue with its own connection pool: another
worker process, as far as Postgres can tell.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from infrastructure.postgres.queue import PostgresJobQueue
from tests.support import databases
from tests.support.queues import NewQueue, queue_factory


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
    with queue_factory(url) as make:
        yield make


@pytest.fixture
def queue(new_queue: NewQueue) -> PostgresJobQueue:
    return new_queue()
