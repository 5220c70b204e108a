"""The audit's integration tests share the Postgres fixtures (an emptied database per test)."""

from tests.integration.infrastructure.postgres.conftest import trawl, url, worker_database_url

__all__ = ["trawl", "url", "worker_database_url"]
