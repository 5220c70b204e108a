"""An app over the in-memory Trawl, a test client and two signed-in users."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from infrastructure.auth.passwords import Argon2PasswordHasher
from infrastructure.settings import Settings
from interfaces.bootstrap import Trawl, bootstrap_memory
from interfaces.http.app import create_app
from tests.unit.interfaces.http.api import Api, ListMailer


@pytest.fixture
def mailer() -> ListMailer:
    return ListMailer()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=str(tmp_path), token_rate_limit_per_minute=5)


@pytest.fixture
def trawl(settings: Settings, mailer: ListMailer) -> Iterator[Trawl]:
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=1024)
    trawl = bootstrap_memory(settings, mailer=mailer, hasher=hasher)
    yield trawl
    trawl.close()


@pytest.fixture
def app(trawl: Trawl) -> Litestar:
    return create_app(trawl)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Any]]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def api(client: TestClient[Any], mailer: ListMailer) -> Api:
    return Api(client, mailer)


@pytest.fixture
def alice(api: Api) -> dict[str, str]:
    return api.user("alice")


@pytest.fixture
def bob(api: Api) -> dict[str, str]:
    return api.user("bob")
