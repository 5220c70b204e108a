"""X-Trawl-Wait-For on Postgres: the projector runs in background threads."""

from __future__ import annotations

import pytest

from tests.unit.interfaces.http.api import Api

pytestmark = pytest.mark.integration


def test_waiting_for_the_commands_position_reads_the_new_project(
    api: Api, alice: dict[str, str]
) -> None:
    created = api.client.post("/api/v1/projects", json={"name": "Reef"}, headers=alice)
    wait = {**alice, "X-Trawl-Wait-For": created.headers["x-trawl-position"]}

    read = api.client.get(f"/api/v1/projects/{created.json()['id']}", headers=wait)
    assert read.status_code == 200
    assert read.json()["name"] == "Reef"
    listed = api.client.get("/api/v1/projects", headers=wait).json()["items"]
    assert [item["id"] for item in listed] == [created.json()["id"]]


def test_a_rename_is_read_back_at_its_position(api: Api, alice: dict[str, str]) -> None:
    created = api.client.post("/api/v1/projects", json={"name": "Reef"}, headers=alice)
    url = f"/api/v1/projects/{created.json()['id']}"
    renamed = api.client.patch(url, json={"name": "Atoll"}, headers=alice)
    wait = {**alice, "X-Trawl-Wait-For": renamed.headers["x-trawl-position"]}
    read = api.client.get(url, headers=wait)
    assert (read.json()["name"], read.headers["etag"]) == ("Atoll", '"2"')
