"""The urls routes: bulk add, list, one URL, remove."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from tests.unit.interfaces.http.api import Api, assert_problem

pytestmark = pytest.mark.unit


def add(client: TestClient[Any], auth: dict[str, str], project: str, urls: list[Any]) -> Any:
    return client.post(f"/api/v1/projects/{project}/urls", json={"urls": urls}, headers=auth)


def test_adding_urls_answers_per_url_with_202(
    client: TestClient[Any], api: Api, alice: dict[str, str]
) -> None:
    project = api.create_project(alice)["id"]
    answer = add(
        client,
        alice,
        project,
        ["https://example.com/a", "https://EXAMPLE.com/a#x", "mailto:a@b.c", "h" * 3000],
    )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert body["id"] == project and int(answer.headers["X-Trawl-Position"]) == body["position"]
    items = body["items"]
    assert [i["status"] for i in items] == ["accepted", "duplicate", "rejected", "rejected"]
    assert [i.get("reason") for i in items[2:]] == ["not-http", "too-long"]
    assert items[0]["id"] == items[1]["id"] and "id" not in items[2]

    wait = {**alice, "X-Trawl-Wait-For": str(body["position"])}
    listed = client.get(f"/api/v1/projects/{project}/urls", headers=wait)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert [u["url"] for u in page["items"]] == ["https://example.com/a"]
    assert page["items"][0]["status"] == "pending" and page["items"][0]["indexed"] is False
    assert page["counts"]["pending"] == 1 and page["next_cursor"] is None

    one = client.get(f"/api/v1/urls/{items[0]['id']}", headers=alice)
    assert one.status_code == 200 and one.json()["project_id"] == project


def test_removing_a_url_keeps_it_readable_as_removed(
    client: TestClient[Any], api: Api, alice: dict[str, str]
) -> None:
    project = api.create_project(alice)["id"]
    url_id = add(client, alice, project, ["https://example.com/"]).json()["items"][0]["id"]
    answer = client.delete(f"/api/v1/urls/{url_id}", headers=alice)
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == url_id
    assert client.get(f"/api/v1/urls/{url_id}", headers=alice).json()["status"] == "removed"
    removed = client.get(f"/api/v1/projects/{project}/urls?status=removed", headers=alice)
    assert [u["id"] for u in removed.json()["items"]] == [url_id]
    assert client.delete(f"/api/v1/urls/{url_id}", headers=alice).status_code == 200


def test_bad_requests_are_problems(
    client: TestClient[Any], api: Api, alice: dict[str, str], bob: dict[str, str]
) -> None:
    project = api.create_project(alice)["id"]
    assert_problem(add(client, alice, project, ["https://example.com/"] * 1001), 400)
    assert_problem(add(client, alice, project, ["h" * 5000]), 400)
    assert_problem(add(client, alice, project, [1]), 400)
    empty = client.get(f"/api/v1/projects/{project}/urls", headers=alice).json()
    assert empty["items"] == []
    assert_problem(
        client.get(f"/api/v1/projects/{project}/urls?status=nope", headers=alice),
        400,
        "invalid-request",
    )
    assert_problem(add(client, bob, project, ["https://example.com/"]), 404, "not-found")
    assert_problem(client.get(f"/api/v1/projects/{project}/urls", headers=bob), 404)
    unknown = "00000000-0000-0000-0000-000000000001"
    assert_problem(client.get(f"/api/v1/urls/{unknown}", headers=alice), 404, "not-found")
    assert_problem(client.delete(f"/api/v1/urls/{unknown}", headers=alice), 404, "not-found")


def test_a_body_over_the_byte_limit_is_413(
    client: TestClient[Any], api: Api, alice: dict[str, str]
) -> None:
    project = api.create_project(alice)["id"]
    urls = ["https://example.com/" + "a" * 2000] * 1000  # about 2 MB
    assert_problem(add(client, alice, project, urls), 413)


def test_the_same_idempotency_key_replays_the_answer(
    client: TestClient[Any], api: Api, alice: dict[str, str]
) -> None:
    project = api.create_project(alice)["id"]
    headers = {**alice, "Idempotency-Key": "add-1"}
    body = {"urls": ["https://example.com/"]}
    path = f"/api/v1/projects/{project}/urls"
    first = client.post(path, json=body, headers=headers)
    again = client.post(path, json=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.headers["Idempotency-Replayed"] == "true"
    assert again.json() == first.json()
    assert first.json()["items"][0]["status"] == "accepted"
