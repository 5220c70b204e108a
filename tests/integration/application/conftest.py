"""Use cases on Postgres: Trawl on an emptied database per test, views followed in threads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import (
    close_soon,
    closed,
    following,
    start,
    wipe,
)
from tests.support import databases


@pytest.fixture(scope="session")
def application_database_url(postgres_server_url: str) -> Iterator[str]:
    with databases.fresh_database(postgres_server_url) as url:
        yield url
        closed()


@pytest.fixture
def url(application_database_url: str) -> str:
    wipe(application_database_url)
    return application_database_url


@pytest.fixture
def trawl(url: str, tmp_path: Path) -> Iterator[Trawl]:
    app = start(url, str(tmp_path))
    with following(app):
        yield app
    close_soon(app)
