"""Trawl on the in-memory store, with a mailer that keeps what it is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from application.auth.principal import Caller
from domain.common import Context
from infrastructure.auth.passwords import Argon2PasswordHasher
from infrastructure.settings import Settings
from interfaces.bootstrap import Trawl, bootstrap_memory
from tests.unit.application.helpers import ListMailer, register


@pytest.fixture
def mailer() -> ListMailer:
    return ListMailer()


@pytest.fixture
def trawl(tmp_path: Path, mailer: ListMailer) -> Trawl:
    return bootstrap_memory(
        Settings(data_dir=str(tmp_path)),
        mailer=mailer,
        hasher=Argon2PasswordHasher(time_cost=1, memory_cost=1024),
    )


@pytest.fixture
def ctx() -> Context:
    return Context.system("test")


@pytest.fixture
def owner(trawl: Trawl) -> Caller:
    return Caller.user(register(trawl, "owner@example.org", "Owner"), "user")


@pytest.fixture
def stranger(trawl: Trawl) -> Caller:
    return Caller.user(register(trawl, "stranger@example.org", "Stranger"), "user")
