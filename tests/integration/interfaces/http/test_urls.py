"""URLs on Postgres: the urls view follows adds, removals and project deletion."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.interfaces.http.api import Api, assert_problem

pytestmark = pytest.mark.integration

Auth = dict[str, str]


def waiting(auth: Auth, answer: Any) -> Auth:
    """`auth`, reading at the position of the command that gave `answer`."""
    return {**auth, "X-Trawl-Wait-For": answer.headers["x-trawl-position"]}


def test_added_urls_are_listed_pending_then_removed(api: Api, alice: Auth) -> None:
    project = api.create_project(alice)["id"]
    urls = f"/api/v1/projects/{project}/urls"
    added = api.client.post(
        urls,
        json={"urls": [f"https://example.com/{n}" for n in range(3)] + ["ftp://example.com/"]},
        headers=alice,
    )
    assert added.status_code == 202, added.text
    items = added.json()["items"]
    assert [i["status"] for i in items] == ["accepted"] * 3 + ["rejected"]

    page = api.client.get(urls, headers=waiting(alice, added)).json()
    assert sorted(u["id"] for u in page["items"]) == sorted(i["id"] for i in items[:3])
    assert {u["status"] for u in page["items"]} == {"pending"}
    assert page["counts"]["pending"] == 3

    again = api.client.post(urls, json={"urls": ["https://example.com/0"]}, headers=alice)
    assert again.json()["items"][0]["status"] == "duplicate"

    url_id = items[0]["id"]
    removed = api.client.delete(f"/api/v1/urls/{url_id}", headers=alice)
    assert removed.status_code == 200, removed.text
    one = api.client.get(f"/api/v1/urls/{url_id}", headers=waiting(alice, removed)).json()
    assert one["status"] == "removed"
    counts = api.client.get(f"{urls}?status=pending", headers=alice).json()
    assert len(counts["items"]) == 2
    assert counts["counts"]["pending"] == 2 and counts["counts"]["removed"] == 1

    deleted = api.client.delete(f"/api/v1/projects/{project}", headers=alice)
    assert deleted.status_code == 200
    gone = api.client.get(f"/api/v1/urls/{items[1]['id']}", headers=waiting(alice, deleted))
    assert_problem(gone, 404, "not-found")
