"""Idempotency-Key: a retry gets the first answer and writes nothing new."""

from __future__ import annotations

import pytest

from interfaces.bootstrap import Trawl
from tests.unit.interfaces.http.api import Api, assert_problem, unique_email

pytestmark = pytest.mark.unit

PROJECTS = "/api/v1/projects"


def test_a_retry_replays_the_first_answer_and_writes_nothing(
    api: Api, trawl: Trawl, alice: dict[str, str]
) -> None:
    headers = {**alice, "Idempotency-Key": "create-reef-1"}
    first = api.client.post(PROJECTS, json={"name": "Reef"}, headers=headers)
    head = trawl.store.head()

    retry = api.client.post(PROJECTS, json={"name": "Reef"}, headers=headers)
    assert (retry.status_code, retry.json()) == (first.status_code, first.json())
    assert retry.headers["x-trawl-position"] == first.headers["x-trawl-position"]
    assert retry.headers["idempotency-replayed"] == "true"
    assert trawl.store.head() == head
    assert len(api.client.get(PROJECTS, headers=alice).json()["items"]) == 1


def test_the_same_key_with_another_body_is_422(
    api: Api, trawl: Trawl, alice: dict[str, str]
) -> None:
    headers = {**alice, "Idempotency-Key": "k-1"}
    api.client.post(PROJECTS, json={"name": "Reef"}, headers=headers)
    head = trawl.store.head()
    answer = api.client.post(PROJECTS, json={"name": "Atoll"}, headers=headers)
    assert_problem(answer, 422, "idempotency-key-reused")
    assert trawl.store.head() == head


def test_keys_are_scoped_to_the_caller(
    api: Api, alice: dict[str, str], bob: dict[str, str]
) -> None:
    mine = api.client.post(
        PROJECTS, json={"name": "Reef"}, headers={**alice, "Idempotency-Key": "same"}
    )
    theirs = api.client.post(
        PROJECTS, json={"name": "Reef"}, headers={**bob, "Idempotency-Key": "same"}
    )
    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]


def test_keys_are_scoped_to_the_path(api: Api, alice: dict[str, str]) -> None:
    url = f"{PROJECTS}/{api.create_project(alice)['id']}"
    key = {**alice, "Idempotency-Key": "lifecycle"}
    archived = api.client.post(f"{url}/archive", headers=key)
    restored = api.client.post(f"{url}/restore", headers=key)
    assert archived.status_code == restored.status_code == 200
    assert restored.json()["version"] == archived.json()["version"] + 1


def test_a_replayed_api_key_creation_hides_the_key(api: Api, alice: dict[str, str]) -> None:
    headers = {**alice, "Idempotency-Key": "key-for-ci"}
    first = api.client.post("/api/v1/auth/api-keys", json={"name": "ci"}, headers=headers)
    retry = api.client.post("/api/v1/auth/api-keys", json={"name": "ci"}, headers=headers)
    assert first.json()["key"].startswith("trawl_")
    assert retry.status_code == 201
    assert retry.json()["key"] is None
    assert retry.json()["key_id"] == first.json()["key_id"]
    assert len(api.client.get("/api/v1/auth/api-keys", headers=alice).json()["items"]) == 1


def test_registration_honours_the_key_too(api: Api, trawl: Trawl) -> None:
    email = unique_email()
    first = api.register(email, **{"Idempotency-Key": "signup"})
    head = trawl.store.head()
    retry = api.register(email, **{"Idempotency-Key": "signup"})
    assert (retry.status_code, retry.json()) == (201, first.json())
    assert trawl.store.head() == head


def test_a_replay_of_a_refused_request_is_refused_again(
    api: Api, trawl: Trawl, alice: dict[str, str]
) -> None:
    headers = {**alice, "Idempotency-Key": "bad-name"}
    assert_problem(api.client.post(PROJECTS, json={"name": ""}, headers=headers), 422)
    assert_problem(api.client.post(PROJECTS, json={"name": ""}, headers=headers), 422)
