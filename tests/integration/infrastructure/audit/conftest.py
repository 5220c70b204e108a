"""The audit's integration tests share the Postgres fixtures (an emptied database
per test); `cli` points the command line at that database."""

from pathlib import Path

import pytest

from tests.integration.infrastructure.postgres.conftest import trawl, url, worker_database_url

__all__ = ["trawl", "url", "worker_database_url"]


@pytest.fixture
def cli(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TRAWL_DATABASE_URL", url)
    monkeypatch.setenv("TRAWL_DATA_DIR", str(tmp_path / "data"))
    return tmp_path
