"""System routes, public routes, correlation ids."""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from interfaces.bootstrap import Trawl
from interfaces.http.security import is_public
from tests.unit.interfaces.http.api import Api, assert_problem

pytestmark = pytest.mark.unit

PARAMETER = re.compile(r"\{\w+:(\w+)\}")
SAMPLE = {"uuid": "00000000-0000-0000-0000-000000000001", "str": "sample"}


@pytest.mark.parametrize("path", ["/health/live", "/health/ready", "/schema/openapi.json"])
def test_public_routes_answer_without_credentials(api: Api, path: str) -> None:
    assert api.client.get(path).status_code == 200


def test_metrics_are_public_prometheus_text(api: Api) -> None:
    api.client.get("/health/live")
    answer = api.client.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    assert "trawl_requests_total" in answer.text


def test_the_openapi_document_describes_every_credential(api: Api) -> None:
    document = api.client.get("/schema/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"BearerToken", "ApiKey", "ShareToken"}
    assert schemes["ShareToken"]["name"] == "X-Share-Token"
    assert "/api/v1/projects/{project_id}" in document["paths"]


def test_projections_need_a_principal(api: Api) -> None:
    assert_problem(api.client.get("/api/v1/system/projections"), 401, "unauthorized")


def test_projections_show_each_view_caught_up(api: Api, alice: dict[str, str]) -> None:
    api.create_project(alice)
    items = api.client.get("/api/v1/system/projections", headers=alice).json()["items"]
    projects = next(item for item in items if item["name"] == "projects")
    assert projects["lag"] == 0
    assert projects["position"] == projects["head"] > 0


def test_a_sane_request_id_is_echoed(api: Api) -> None:
    answer = api.client.get("/health/live", headers={"X-Request-Id": "req-42.a:b"})
    assert answer.headers["x-request-id"] == "req-42.a:b"


def test_an_insane_request_id_is_replaced(api: Api) -> None:
    answer = api.client.get("/api/v1/me", headers={"X-Request-Id": "<script>" * 30})
    assert answer.status_code == 401
    assert answer.headers["x-request-id"].isalnum()


def test_the_request_id_is_the_events_correlation_id(
    api: Api, trawl: Trawl, alice: dict[str, str]
) -> None:
    headers = {**alice, "X-Request-Id": "trace-123"}
    created = api.client.post("/api/v1/projects", json={"name": "Reef"}, headers=headers)
    events = list(trawl.store.events.get(UUID(created.json()["id"])))
    assert [event.correlation_id for event in events] == ["trace-123"]  # type: ignore[attr-defined]


def protected_routes(app: Litestar) -> list[tuple[str, str]]:
    routes = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or is_public(route.path):
            continue
        path = PARAMETER.sub(lambda m: SAMPLE[m.group(1)], route.path)
        routes.extend((method, path) for method in sorted(route.methods) if method != "OPTIONS")
    return routes


def test_every_route_not_listed_as_public_is_401_without_credentials(
    api: Api, app: Litestar
) -> None:
    routes = protected_routes(app)
    assert ("GET", "/api/v1/me") in routes
    for method, path in routes:
        answer: Any = api.client.request(method, path)
        assert_problem(answer, 401, "unauthorized")
