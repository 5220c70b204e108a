"""Share links over HTTP: created once, presented as X-Share-Token, dead once
expired or revoked (404 on a project's routes, 401 elsewhere)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from application.shares.queries import LinkResolver
from interfaces.bootstrap import Trawl
from tests.unit.interfaces.http.api import Api, assert_problem, share_token

pytestmark = pytest.mark.unit

Auth = dict[str, str]


@pytest.fixture
def project(api: Api, alice: Auth) -> str:
    project_id: str = api.create_project(alice)["id"]
    return project_id


def links_url(project_id: str) -> str:
    return f"/api/v1/projects/{project_id}/share-links"


def test_a_link_is_created_with_its_token_once_and_listed_without_it(
    api: Api, alice: Auth, project: str
) -> None:
    answer = api.client.post(
        links_url(project), json={"role": "editor", "expires_in_seconds": 3600}, headers=alice
    )
    assert answer.status_code == 201
    link = answer.json()
    assert set(link) == {"id", "version", "position", "token", "expires_at", "role"}
    assert answer.headers["x-trawl-position"] == str(link["position"])
    assert link["token"].startswith("tsl_") and link["role"] == "editor"
    expires_at = datetime.fromisoformat(link["expires_at"])
    assert timedelta(minutes=59) < expires_at - datetime.now(UTC) <= timedelta(hours=1)

    listed = api.client.get(links_url(project), headers=alice).json()
    assert listed["next_cursor"] is None
    assert listed["items"] == [
        {
            "id": link["id"],
            "role": "editor",
            "expires_at": link["expires_at"],
            "created_at": listed["items"][0]["created_at"],
        }
    ]
    assert link["token"] not in api.client.get(links_url(project), headers=alice).text


def test_a_replayed_link_creation_answers_without_the_token(
    api: Api, alice: Auth, project: str
) -> None:
    headers = {**alice, "Idempotency-Key": "link-1"}
    body = {"role": "viewer", "expires_in_seconds": 600}
    first = api.client.post(links_url(project), json=body, headers=headers).json()
    again = api.client.post(links_url(project), json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotency-replayed"] == "true"
    assert again.json() == {**first, "token": None}
    assert len(api.client.get(links_url(project), headers=alice).json()["items"]) == 1


@pytest.mark.parametrize(
    ("body", "slug"),
    [
        ({"role": "viewer", "expires_in_seconds": 59}, "invalid-expiry"),
        ({"role": "viewer", "expires_in_seconds": 90 * 86400 + 1}, "invalid-expiry"),
        ({"role": "owner", "expires_in_seconds": 600}, "invalid-role"),
    ],
)
def test_a_link_needs_a_grantable_role_and_a_lifetime_of_1_minute_to_90_days(
    api: Api, alice: Auth, project: str, body: dict[str, object], slug: str
) -> None:
    assert_problem(api.client.post(links_url(project), json=body, headers=alice), 422, slug)


def test_a_link_holder_reads_the_project_with_the_links_role(
    api: Api, alice: Auth, project: str
) -> None:
    for role in ("viewer", "editor"):
        holder = share_token(api.link(alice, project, role)["token"])
        read = api.client.get(f"/api/v1/projects/{project}", headers=holder)
        assert (read.status_code, read.json()["role"]) == (200, role)
        assert api.client.get("/api/v1/projects", headers=holder).json()["items"] == []


def test_a_link_holder_has_no_account(api: Api, alice: Auth, project: str) -> None:
    holder = share_token(api.link(alice, project)["token"])
    assert_problem(api.client.get("/api/v1/me", headers=holder), 403, "forbidden")
    created = api.client.post("/api/v1/projects", json={"name": "Mine"}, headers=holder)
    assert_problem(created, 403, "forbidden")
    left = api.client.post(f"/api/v1/projects/{project}/leave", headers=holder)
    assert_problem(left, 403, "forbidden")


def test_a_link_opens_its_own_project_only(api: Api, alice: Auth, project: str) -> None:
    other = api.create_project(alice, "Other")["id"]
    holder = share_token(api.link(alice, project)["token"])
    assert_problem(api.client.get(f"/api/v1/projects/{other}", headers=holder), 404)


def test_a_revoked_link_is_404_at_once_and_revoking_again_changes_nothing(
    api: Api, trawl: Trawl, alice: Auth, project: str
) -> None:
    link = api.link(alice, project)
    url = f"{links_url(project)}/{link['id']}"
    first = api.client.delete(url, headers=alice)
    head = trawl.store.head()
    again = api.client.delete(url, headers=alice)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json()["version"] == first.json()["version"] == 2
    assert trawl.store.head() == head
    holder = share_token(link["token"])
    assert_problem(api.client.get(f"/api/v1/projects/{project}", headers=holder), 404, "not-found")
    assert_problem(api.client.get("/api/v1/me", headers=holder), 401, "unauthorized")
    assert api.client.get(links_url(project), headers=alice).json()["items"] == []


def test_an_expired_link_is_404_on_the_project_and_401_elsewhere(
    api: Api, trawl: Trawl, alice: Auth, project: str
) -> None:
    holder = share_token(api.link(alice, project, seconds=60)["token"])
    assert api.client.get(f"/api/v1/projects/{project}", headers=holder).status_code == 200
    trawl.links = LinkResolver(trawl.store, lambda: datetime.now(UTC) + timedelta(seconds=61))
    assert_problem(api.client.get(f"/api/v1/projects/{project}", headers=holder), 404, "not-found")
    assert_problem(api.client.get("/api/v1/projects", headers=holder), 401, "unauthorized")


def test_a_dead_share_token_never_falls_back_to_the_bearer_token(
    api: Api, alice: Auth, project: str
) -> None:
    headers = {**alice, **share_token("tsl_not-a-real-token")}
    assert_problem(api.client.get(f"/api/v1/projects/{project}", headers=headers), 404)
    assert_problem(api.client.get("/api/v1/me", headers=headers), 401)


def test_a_link_of_another_project_cannot_be_revoked_through_this_one(
    api: Api, alice: Auth, project: str
) -> None:
    other = api.create_project(alice, "Other")["id"]
    link = api.link(alice, project)
    answer = api.client.delete(f"{links_url(other)}/{link['id']}", headers=alice)
    assert_problem(answer, 404, "not-found")
    holder = share_token(link["token"])
    assert api.client.get(f"/api/v1/projects/{project}", headers=holder).status_code == 200
