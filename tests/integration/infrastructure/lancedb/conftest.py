"""The search projection on real Postgres and a LanceDB directory of the test's own."""

from __future__ import annotations

from tests.integration.infrastructure.postgres.conftest import trawl, url, worker_database_url

__all__ = ["trawl", "url", "worker_database_url"]
