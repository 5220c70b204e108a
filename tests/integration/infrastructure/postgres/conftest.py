"""Trawl on an emptied Postgres database per test (closed at teardown).

Each xdist worker gets one database of its own for these tests; every test
starts from empty tables and restarted sequences (as if freshly created),
which costs far less than creating a database per test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import close_soon, closed, start, wipe
from tests.support import databases


@pytest.fixture(scope="session")
def worker_database_url(postgres_server_url: str) -> Iterator[str]:
    with databases.fresh_database(postgres_server_url) as url:
        yield url
        closed()


@pytest.fixture
def url(worker_database_url: str) -> str:
    wipe(worker_database_url)
    return worker_database_url


@pytest.fixture
def trawl(url: str, tmp_path: Path) -> Iterator[Trawl]:
    app = start(url, str(tmp_path))
    yield app
    close_soon(app)
