"""Audit routes over the in-memory Trawl: the log, histories, past states, verify, forget."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from domain.common import Context
from interfaces.bootstrap import Trawl
from tests.unit.interfaces.http.api import Api, assert_problem, bearer

pytestmark = pytest.mark.unit

CLI = Context.system("test")


def auditor(api: Api, trawl: Trawl, role: str = "auditor") -> dict[str, str]:
    _, email = api.verified_user(role)
    trawl.users.set_role(CLI, email, role)
    return bearer(api.token(email).json()["access_token"])


def test_the_log_shows_each_event_with_its_envelope(
    api: Api, client: TestClient[Any], trawl: Trawl, alice: dict[str, str]
) -> None:
    project = api.create_project(alice, "Reef")
    client.patch(f"/api/v1/projects/{project['id']}", json={"name": "Atoll"}, headers=alice)
    page = client.get(
        "/api/v1/audit/events", params={"aggregate_type": "project"}, headers=auditor(api, trawl)
    ).json()
    created, renamed = page["items"]
    assert (created["type"], created["version"], created["payload"]["name"]) == (
        "created",
        1,
        "Reef",
    )
    assert (renamed["topic"], renamed["payload"]) == ("trawl:project.renamed", {"name": "Atoll"})
    assert renamed["actor"].startswith("user:") and renamed["correlation_id"]
    assert renamed["position"] > created["position"] and page["next_cursor"] is None


def test_the_log_pages_by_position_and_filters_by_event_type_and_actor(
    api: Api, client: TestClient[Any], trawl: Trawl, alice: dict[str, str], bob: dict[str, str]
) -> None:
    for n in range(3):
        api.create_project(alice, f"A{n}")
    api.create_project(bob, "B")
    auth = auditor(api, trawl)
    first = client.get(
        "/api/v1/audit/events",
        params={"event_type": "project.created", "limit": 2},
        headers=auth,
    ).json()
    rest = client.get(
        "/api/v1/audit/events",
        params={"event_type": "project.created", "after": first["next_cursor"]},
        headers=auth,
    ).json()
    names = [e["payload"]["name"] for e in first["items"] + rest["items"]]
    assert names == ["A0", "A1", "A2", "B"]
    bobs = rest["items"][-1]["actor"]
    only_bob = client.get(
        "/api/v1/audit/events", params={"actor": bobs, "aggregate_type": "project"}, headers=auth
    ).json()
    assert [e["payload"]["name"] for e in only_bob["items"]] == ["B"]
    assert_problem(
        client.get("/api/v1/audit/events", params={"event_type": "nope"}, headers=auth), 400
    )


def test_an_owner_reads_the_past_state_of_a_project_by_version_and_instant(
    api: Api, client: TestClient[Any], alice: dict[str, str]
) -> None:
    project = api.create_project(alice, "Reef")
    base = f"/api/v1/audit/aggregates/{project['id']}"
    client.patch(f"/api/v1/projects/{project['id']}", json={"name": "Atoll"}, headers=alice)
    history = client.get(base + "/events", headers=alice).json()["items"]
    at_one = client.get(base + "/state", params={"version": 1}, headers=alice).json()
    assert (at_one["version"], at_one["state"]["name"]) == (1, "Reef")
    instant = history[0]["time"]
    by_time = client.get(base + "/state", params={"at": instant}, headers=alice).json()
    assert by_time["state"]["name"] == "Reef"
    now = client.get(base + "/state", headers=alice).json()
    assert (now["version"], now["state"]["name"]) == (2, "Atoll")
    assert_problem(client.get(base + "/state", params={"version": 9}, headers=alice), 404)


def test_forgetting_erases_the_personal_fields_in_the_history(
    api: Api, client: TestClient[Any], trawl: Trawl
) -> None:
    auth, email = api.verified_user("gone")
    user_id = client.get("/api/v1/me", headers=auth).json()["id"]
    admin = auditor(api, trawl, "admin")
    base = f"/api/v1/audit/aggregates/{user_id}"
    before = client.get(base + "/events", headers=admin).json()["items"][0]
    assert (before["payload"]["email"], before["erased"]) == (email, [])
    answer = client.post(f"/api/v1/users/{user_id}/forget", headers=admin)
    assert answer.status_code == 200, answer.text
    events = client.get(base + "/events", headers=admin).json()["items"]
    assert events[0]["payload"]["email"] is None
    assert events[0]["erased"] == ["email", "display_name"]
    assert events[-1]["topic"] == "trawl:user.forgotten"
    assert api.token(email).status_code == 401  # the credentials went with the person
    verify = client.get("/api/v1/audit/verify", headers=admin).json()
    assert verify["ok"] and verify["first_bad_position"] is None


def test_an_owner_reads_the_history_of_a_url_of_their_project_and_nobody_else_does(
    api: Api, client: TestClient[Any], alice: dict[str, str], bob: dict[str, str]
) -> None:
    project = api.create_project(alice, "Reef")
    added = client.post(
        f"/api/v1/projects/{project['id']}/urls",
        json={"urls": ["https://example.com/reef"]},
        headers=alice,
    ).json()
    url_id = added["items"][0]["id"]
    history = client.get(f"/api/v1/audit/aggregates/{url_id}/events", headers=alice)
    assert history.status_code == 200, history.text
    assert history.json()["items"][0]["topic"] == "trawl:url.added"
    assert_problem(client.get(f"/api/v1/audit/aggregates/{url_id}/events", headers=bob), 404)
    assert_problem(client.get("/api/v1/audit/verify", headers=alice), 403)
