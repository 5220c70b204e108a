"""Concurrent requests on Postgres: If-Match and Idempotency-Key hold."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from interfaces.bootstrap import Trawl
from interfaces.http.app import create_app
from tests.unit.interfaces.http.api import Api

pytestmark = pytest.mark.integration

N = 8


async def concurrently(
    trawl: Trawl, method: str, url: str, bodies: list[Any], headers: dict[str, str]
) -> list[Any]:
    async with AsyncTestClient(create_app(trawl)) as client:
        requests = [client.request(method, url, json=body, headers=headers) for body in bodies]
        return list(await asyncio.gather(*requests))


def test_concurrent_patches_with_one_if_match_let_exactly_one_through(
    api: Api, trawl: Trawl, alice: dict[str, str]
) -> None:
    created = api.client.post("/api/v1/projects", json={"name": "Reef"}, headers=alice).json()
    url = f"/api/v1/projects/{created['id']}"
    bodies = [{"name": f"Name {i}"} for i in range(N)]

    answers = asyncio.run(concurrently(trawl, "PATCH", url, bodies, {**alice, "If-Match": '"1"'}))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [412] * (N - 1)
    winner = next(a for a in answers if a.status_code == 200)
    assert winner.json()["version"] == 2


def test_concurrent_twins_with_one_idempotency_key_create_one_project(
    api: Api, trawl: Trawl, alice: dict[str, str]
) -> None:
    headers = {**alice, "Idempotency-Key": "twins"}
    bodies = [{"name": "Reef"}] * N
    answers = asyncio.run(concurrently(trawl, "POST", "/api/v1/projects", bodies, headers))

    assert {answer.status_code for answer in answers} == {201}
    assert len({answer.json()["id"] for answer in answers}) == 1
    wait = {**alice, "X-Trawl-Wait-For": answers[0].headers["x-trawl-position"]}
    assert len(api.client.get("/api/v1/projects", headers=wait).json()["items"]) == 1
