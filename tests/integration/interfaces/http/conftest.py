"""The HTTP API over Trawl on real Postgres, its projector in background threads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from infrastructure.auth.passwords import Argon2PasswordHasher
from infrastructure.settings import Settings
from interfaces.bootstrap import Trawl, bootstrap
from interfaces.http.app import create_app
from tests.unit.interfaces.http.api import Api, ListMailer


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=str(tmp_path), consistency_wait_ms=5000)


@pytest.fixture
def trawl(settings: Settings, database_url: str) -> Iterator[Trawl]:
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=1024)
    trawl = bootstrap(
        settings, database_url, mailer=ListMailer(), hasher=hasher, run_projectors=True
    )
    yield trawl
    trawl.close()


@pytest.fixture
def client(trawl: Trawl) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(trawl)) as client:
        yield client


@pytest.fixture
def api(client: TestClient[Any], trawl: Trawl) -> Api:
    mailer = trawl.users.mailer
    assert isinstance(mailer, ListMailer)
    return Api(client, mailer)


@pytest.fixture
def alice(api: Api) -> dict[str, str]:
    return api.user("alice")
