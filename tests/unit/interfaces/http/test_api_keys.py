"""API keys: created once, usable as X-API-Key, dead once deleted."""

from __future__ import annotations

import pytest

from tests.unit.interfaces.http.api import Api, assert_problem

pytestmark = pytest.mark.unit


def create_key(api: Api, auth: dict[str, str], name: str = "ci") -> dict[str, str]:
    answer = api.client.post("/api/v1/auth/api-keys", json={"name": name}, headers=auth)
    assert answer.status_code == 201, answer.text
    body: dict[str, str] = answer.json()
    assert answer.headers["x-trawl-position"] == str(body["position"])
    return body


def test_an_api_key_acts_as_its_user(api: Api, alice: dict[str, str]) -> None:
    key = create_key(api, alice)
    me = api.client.get("/api/v1/me", headers={"X-API-Key": key["key"]})
    assert me.status_code == 200
    assert me.json()["id"] == api.client.get("/api/v1/me", headers=alice).json()["id"]


def test_api_keys_are_listed_without_the_key(api: Api, alice: dict[str, str]) -> None:
    key = create_key(api, alice, "deploy")
    listed = api.client.get("/api/v1/auth/api-keys", headers=alice).json()["items"]
    assert [(k["id"], k["name"], k["prefix"]) for k in listed] == [
        (key["key_id"], "deploy", key["prefix"])
    ]
    assert key["key"].startswith(key["prefix"])
    assert "key" not in listed[0]


def test_a_deleted_api_key_is_401(api: Api, alice: dict[str, str]) -> None:
    key = create_key(api, alice)
    deleted = api.client.delete(f"/api/v1/auth/api-keys/{key['key_id']}", headers=alice)
    assert deleted.status_code == 200
    assert_problem(api.client.get("/api/v1/me", headers={"X-API-Key": key["key"]}), 401)


def test_an_unknown_api_key_is_401_even_beside_a_valid_token(
    api: Api, alice: dict[str, str]
) -> None:
    headers = {**alice, "X-API-Key": "trawl_not-a-real-key"}
    assert_problem(api.client.get("/api/v1/me", headers=headers), 401, "unauthorized")


def test_deleting_an_unknown_key_is_404(api: Api, alice: dict[str, str]) -> None:
    answer = api.client.delete(
        "/api/v1/auth/api-keys/00000000-0000-0000-0000-000000000000", headers=alice
    )
    assert_problem(answer, 404, "not-found")


def test_an_empty_key_name_is_422(api: Api, alice: dict[str, str]) -> None:
    answer = api.client.post("/api/v1/auth/api-keys", json={"name": "  "}, headers=alice)
    assert_problem(answer, 422)
