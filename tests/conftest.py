"""Session-wide fixtures: a PostgreSQL server, test databases, NATS, an SMTP server.

The logic lives in tests/support; this file only gives it fixture names.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from infrastructure.nats.stream import StreamSpec
from tests.support import databases, nats, smtp

MARKERS = {
    "unit": "pure, in-memory, fast",
    "integration": "talks to a real service (Postgres, NATS, SMTP, ...)",
    "e2e": "drives the running application from the outside",
    "slow": "takes seconds (e.g. initdb); still part of the CI run",
    "heavy": "a full-size fault run (minutes); CI runs its bounded form instead",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, description in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {description}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Heavy runs are left out unless asked for (`-m heavy`, TRAWL_TEST_HEAVY=1)."""
    if "heavy" in (config.option.markexpr or "") or os.environ.get("TRAWL_TEST_HEAVY"):
        return
    heavy = [item for item in items if item.get_closest_marker("heavy")]
    if heavy:
        config.hook.pytest_deselected(items=heavy)
        items[:] = [item for item in items if not item.get_closest_marker("heavy")]


@pytest.fixture(scope="session")
def postgres_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server to create test databases on (see tests/support/databases.py)."""
    base = tmp_path_factory.getbasetemp()
    # xdist workers get sibling base dirs; their common parent lets them
    # share one embedded server instead of each running initdb.
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    with databases.postgres_server(shared / "embedded") as url:
        yield url


@pytest.fixture(scope="session")
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh `trawl_test_<hex>` database for this session (xdist worker)."""
    with databases.fresh_database(postgres_server_url) as url:
        yield url


@pytest.fixture
def empty_database_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh database for one test, dropped right after it."""
    with databases.fresh_database(postgres_server_url) as url:
        yield url


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[smtp.SmtpServer]:
    """An SMTP server on loopback collecting every message it receives."""
    with smtp.smtp_server() as server:
        yield server


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A NATS server with JetStream (see tests/support/nats.py)."""
    with nats.nats_server(tmp_path_factory.mktemp("nats")) as url:
        yield url


@pytest.fixture(scope="session")
def stream_names() -> nats.StreamNames:
    """This session's random subject prefix and stream names."""
    return nats.StreamNames()


@pytest.fixture
def stream_spec(nats_url: str, stream_names: nats.StreamNames) -> Iterator[StreamSpec]:
    """A stream name and subject prefix of this test's own, deleted afterwards."""
    spec = stream_names.spec()
    yield spec
    nats.delete_stream(nats_url, spec.name)
