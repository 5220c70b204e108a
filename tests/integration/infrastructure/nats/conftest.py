"""Relay tests: Trawl on an emptied Postgres database per test, a stream per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import close_soon, closed, start, wipe
from tests.support import databases

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def relay_database_url(postgres_server_url: str) -> Iterator[str]:
    with databases.fresh_database(postgres_server_url) as url:
        yield url
        closed()


@pytest.fixture
def url(relay_database_url: str) -> str:
    wipe(relay_database_url)
    return relay_database_url


@pytest.fixture
def trawl(url: str, tmp_path: Path) -> Iterator[Trawl]:
    app = start(url, str(tmp_path))
    yield app
    close_soon(app)
