"""X-Trawl-Wait-For gives up after TRAWL_CONSISTENCY_WAIT_MS with a 503."""

from __future__ import annotations

import time

import msgspec
import pytest

from infrastructure.settings import Settings
from interfaces.bootstrap import Trawl
from tests.unit.interfaces.http.api import Api, assert_problem

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, consistency_wait_ms=300)


def test_waiting_for_a_future_position_times_out_with_503(
    api: Api, trawl: Trawl, alice: dict[str, str]
) -> None:
    future = trawl.store.head() + 1_000_000
    started = time.monotonic()
    answer = api.client.get("/api/v1/projects", headers={**alice, "X-Trawl-Wait-For": str(future)})
    assert_problem(answer, 503, "consistency-timeout")
    assert answer.headers["retry-after"] == "1"
    assert 0.25 <= time.monotonic() - started < 5
