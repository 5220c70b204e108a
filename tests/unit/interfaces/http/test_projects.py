"""Projects over HTTP: the lifecycle, visibility, optimistic concurrency, pages."""

from __future__ import annotations

import pytest

from interfaces.bootstrap import Trawl
from tests.unit.interfaces.http.api import Api, assert_problem

pytestmark = pytest.mark.unit

PROJECTS = "/api/v1/projects"


def test_a_created_project_reads_back_with_its_etag(api: Api, alice: dict[str, str]) -> None:
    created = api.client.post(
        PROJECTS, json={"name": "  Reef ", "description": "corals"}, headers=alice
    )
    assert created.status_code == 201
    assert created.headers["x-trawl-position"] == str(created.json()["position"])
    assert set(created.json()) == {"id", "version", "position"}

    read = api.client.get(f"{PROJECTS}/{created.json()['id']}", headers=alice)
    assert read.status_code == 200
    assert read.headers["etag"] == '"1"'
    body = read.json()
    assert (body["name"], body["description"], body["status"], body["role"]) == (
        "Reef",
        "corals",
        "active",
        "owner",
    )
    assert set(body) == {
        "id",
        "name",
        "description",
        "status",
        "version",
        "role",
        "owner_id",
        "created_at",
        "updated_at",
        "settings",
        "url_counts",
    }
    assert body["settings"] == {
        "chunk_size": 1000,
        "chunk_overlap": 150,
        "refresh_interval_seconds": None,
        "embedding_model": "wordllama/l2_supercat-256",
    }
    assert body["url_counts"]["pending"] == 0


def test_rename_archive_restore_delete(api: Api, alice: dict[str, str]) -> None:
    url = f"{PROJECTS}/{api.create_project(alice)['id']}"
    renamed = api.client.patch(url, json={"name": "Atoll"}, headers=alice)
    assert renamed.status_code == 200
    assert renamed.json()["version"] == 2
    assert api.client.get(url, headers=alice).json()["name"] == "Atoll"

    assert api.client.post(f"{url}/archive", headers=alice).status_code == 200
    assert api.client.get(url, headers=alice).json()["status"] == "archived"
    assert_problem(
        api.client.patch(url, json={"name": "Lagoon"}, headers=alice), 409, "project-archived"
    )
    assert api.client.post(f"{url}/restore", headers=alice).status_code == 200
    assert_problem(api.client.post(f"{url}/restore", headers=alice), 409, "project-not-archived")

    deleted = api.client.delete(url, headers=alice)
    assert deleted.status_code == 200
    assert deleted.json()["position"] > renamed.json()["position"]
    assert_problem(api.client.get(url, headers=alice), 404, "not-found")
    assert_problem(api.client.patch(url, json={"name": "X"}, headers=alice), 404)
    assert api.client.get(PROJECTS, headers=alice).json()["items"] == []


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"name": "Mine now"}),
        ("POST", "/archive", None),
        ("POST", "/restore", None),
        ("DELETE", "", None),
    ],
)
def test_another_user_gets_404_on_every_project_route(
    api: Api,
    trawl: Trawl,
    alice: dict[str, str],
    bob: dict[str, str],
    method: str,
    suffix: str,
    body: dict[str, str] | None,
) -> None:
    url = f"{PROJECTS}/{api.create_project(alice)['id']}{suffix}"
    head = trawl.store.head()
    answer = api.client.request(method, url, headers=bob, json=body)
    assert_problem(answer, 404, "not-found")
    assert trawl.store.head() == head
    assert api.client.get(PROJECTS, headers=bob).json()["items"] == []


def test_if_match_guards_against_lost_updates(api: Api, alice: dict[str, str]) -> None:
    url = f"{PROJECTS}/{api.create_project(alice)['id']}"
    etag = api.client.get(url, headers=alice).headers["etag"]
    first = api.client.patch(url, json={"name": "One"}, headers={**alice, "If-Match": etag})
    assert first.status_code == 200

    stale = api.client.patch(url, json={"name": "Two"}, headers={**alice, "If-Match": etag})
    assert_problem(stale, 412, "version-conflict")
    assert api.client.get(url, headers=alice).json()["name"] == "One"


@pytest.mark.parametrize("if_match", ['"2"', "2", 'W/"2"'])
def test_if_match_accepts_every_spelling_of_a_version(
    api: Api, alice: dict[str, str], if_match: str
) -> None:
    url = f"{PROJECTS}/{api.create_project(alice)['id']}"
    api.client.patch(url, json={"name": "One"}, headers=alice)
    answer = api.client.post(f"{url}/archive", headers={**alice, "If-Match": if_match})
    assert answer.status_code == 200
    assert_problem(api.client.delete(url, headers={**alice, "If-Match": if_match}), 412)


def test_pages_cover_every_project_exactly_once(api: Api, alice: dict[str, str]) -> None:
    created = {api.create_project(alice, f"Project {i}")["id"] for i in range(7)}
    seen: list[str] = []
    cursor = None
    while True:
        query = "?limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.client.get(PROJECTS + query, headers=alice).json()
        assert len(page["items"]) <= 3
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(created)


def test_without_credentials_project_routes_are_401(api: Api, alice: dict[str, str]) -> None:
    url = f"{PROJECTS}/{api.create_project(alice)['id']}"
    assert_problem(api.client.get(url), 401, "unauthorized")
    assert_problem(api.client.post(PROJECTS, json={"name": "X"}), 401, "unauthorized")
