"""The event stream's HTTP side: the AsyncAPI document, the relay's progress."""

from __future__ import annotations

import pytest

from infrastructure.nats import asyncapi
from tests.unit.interfaces.http.api import Api

pytestmark = pytest.mark.unit


def test_the_asyncapi_document_is_public_and_the_generated_one(api: Api) -> None:
    answer = api.client.get("/asyncapi.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json() == asyncapi.document("trawl")


def test_without_a_relay_the_projections_say_so(api: Api, alice: dict[str, str]) -> None:
    body = api.client.get("/api/v1/system/projections", headers=alice).json()
    assert body["relay"] is None
