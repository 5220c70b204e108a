"""System routes on Postgres."""

from __future__ import annotations

import pytest

from tests.unit.interfaces.http.api import Api

pytestmark = pytest.mark.integration


def test_ready_when_the_database_answers(api: Api) -> None:
    answer = api.client.get("/health/ready")
    assert (answer.status_code, answer.json()) == (200, {"status": "ready"})


def test_projections_show_the_projects_view(api: Api, alice: dict[str, str]) -> None:
    created = api.client.post("/api/v1/projects", json={"name": "Reef"}, headers=alice)
    position = int(created.headers["x-trawl-position"])
    api.client.get("/api/v1/projects", headers={**alice, "X-Trawl-Wait-For": str(position)})

    items = api.client.get("/api/v1/system/projections", headers=alice).json()["items"]
    projects = next(item for item in items if item["name"] == "projects")
    assert projects["position"] >= position
    assert projects["head"] >= projects["position"]
    assert projects["lag"] == projects["head"] - projects["position"]
