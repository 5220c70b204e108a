"""Bad input is a 4xx problem that says what is wrong, and writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from interfaces.bootstrap import Trawl
from tests.unit.interfaces.http.api import Api, assert_problem

pytestmark = pytest.mark.unit

PROJECTS = "/api/v1/projects"


def post_raw(api: Api, auth: dict[str, str], content: bytes) -> Any:
    headers = {**auth, "Content-Type": "application/json"}
    return api.client.post(PROJECTS, content=content, headers=headers)


def test_malformed_json_is_400(api: Api, alice: dict[str, str]) -> None:
    assert_problem(post_raw(api, alice, b'{"name": "Reef"'), 400, "invalid-request")


def test_an_unknown_field_is_400_naming_it(api: Api, alice: dict[str, str]) -> None:
    answer = api.client.post(PROJECTS, json={"name": "Reef", "colour": "red"}, headers=alice)
    problem = assert_problem(answer, 400, "invalid-request")
    assert "colour" in str(problem["errors"])


def test_a_wrong_type_is_400(api: Api, alice: dict[str, str]) -> None:
    answer = api.client.post(PROJECTS, json={"name": 42}, headers=alice)
    problem = assert_problem(answer, 400, "invalid-request")
    assert "name" in str(problem["errors"])


def test_a_missing_field_is_400(api: Api, alice: dict[str, str]) -> None:
    assert_problem(api.client.post(PROJECTS, json={}, headers=alice), 400, "invalid-request")


def test_an_oversized_body_is_413(api: Api, trawl: Trawl, alice: dict[str, str]) -> None:
    filler = b" " * trawl.settings.max_body_bytes
    answer = post_raw(api, alice, b'{"name": "Reef"' + filler + b"}")
    assert_problem(answer, 413, "payload-too-large")


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "tab\there"])
def test_a_bad_project_name_is_422_and_writes_nothing(
    api: Api, trawl: Trawl, alice: dict[str, str], name: str
) -> None:
    head = trawl.store.head()
    answer = api.client.post(PROJECTS, json={"name": name}, headers=alice)
    assert_problem(answer, 422, "invalid-name")
    assert trawl.store.head() == head


def test_a_too_long_description_is_refused(api: Api, trawl: Trawl, alice: dict[str, str]) -> None:
    head = trawl.store.head()
    answer = api.client.post(
        PROJECTS, json={"name": "Reef", "description": "x" * 2001}, headers=alice
    )
    assert 400 <= answer.status_code < 500
    assert_problem(answer, answer.status_code)
    assert trawl.store.head() == head


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        ("GET", "/api/v1/projects?limit=0", {}, 400),
        ("GET", "/api/v1/projects?limit=101", {}, 400),
        ("GET", "/api/v1/projects?cursor=not-a-cursor", {}, 400),
        ("GET", "/api/v1/projects", {"X-Trawl-Wait-For": "-1"}, 400),
        ("GET", "/api/v1/projects", {"X-Trawl-Wait-For": "soon"}, 400),
        ("POST", "/api/v1/projects", {"Idempotency-Key": "x" * 201}, 400),
        ("POST", "/api/v1/projects", {"Idempotency-Key": "tab\there"}, 400),
        ("GET", "/api/v1/nowhere", {}, 404),
        ("PUT", "/api/v1/projects", {}, 405),
        ("GET", "/api/v1/projects/not-a-uuid", {}, 404),
        ("GET", "/api/v1/me", {"Authorization": "Basic YTpi"}, 401),
    ],
)
def test_every_error_is_problem_json(
    api: Api,
    alice: dict[str, str],
    method: str,
    path: str,
    headers: dict[str, str],
    status: int,
) -> None:
    merged = {**alice, **headers}
    answer = api.client.request(method, path, headers=merged, json={"name": "Reef"})
    assert_problem(answer, status)


def test_an_if_match_that_is_no_version_is_400(api: Api, alice: dict[str, str]) -> None:
    project = api.create_project(alice)
    answer = api.client.patch(
        f"{PROJECTS}/{project['id']}", json={"name": "New"}, headers={**alice, "If-Match": "v3"}
    )
    assert_problem(answer, 400, "invalid-request")
