"""System routes on Postgres."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from domain.common import Context
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import execute
from tests.support.waiting import wait_until
from tests.unit.interfaces.http.api import Api, bearer

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


def test_projections_count_each_views_parked_events(
    api: Api, alice: dict[str, str], database_url: str
) -> None:
    """Counted as a change: other tests on this database may have parked events."""

    def parked() -> int:
        items = api.client.get("/api/v1/system/projections", headers=alice).json()["items"]
        return int(next(item for item in items if item["name"] == "projects")["parked"])

    before = parked()
    position = secrets.randbelow(2**40) + 2**41  # past any real event: one row of our own
    execute(
        database_url,
        "INSERT INTO trawl_parked_events (view, position, topic, error)"
        " VALUES ('projects', %s, 'Project.Created', 'ValueError()')",
        (position,),
    )
    try:
        assert parked() == before + 1
    finally:
        execute(database_url, "DELETE FROM trawl_parked_events WHERE position = %s", (position,))


def test_the_job_backlog_shows_each_kind_to_admins(
    api: Api, trawl: Trawl, alice: dict[str, str]
) -> None:
    """No worker runs here (`start_workers` is not called): an added URL's fetch
    job stays due and ages; a job leased to a worker counts as leased. Counted
    as changes: earlier tests on this database may have left fetch jobs."""
    headers = admin_headers(api, trawl)
    before = fetches(api, headers)
    project = api.create_project(alice)["id"]
    added = api.client.post(
        f"/api/v1/projects/{project}/urls",
        json={"urls": ["https://example.org/a", "https://example.org/b"]},
        headers=alice,
    )
    assert added.status_code == 202, added.text
    assert api.client.get("/api/v1/system/jobs", headers=alice).status_code == 403

    wait_until(lambda: fetches(api, headers)["due"] == before["due"] + 2, what="2 fetch jobs")
    first = fetches(api, headers)["oldest_due_seconds"]
    assert first > 0
    wait_until(  # it ages
        lambda: fetches(api, headers)["oldest_due_seconds"] >= first + 0.25,
        what="the oldest due fetch job's wait to grow",
    )
    assert trawl.make_worker is not None
    trawl.make_worker("test-worker").queue.claim("fetch", "test-worker", 60.0)  # never run

    fetch = fetches(api, headers)
    assert fetch["due"] == before["due"] + 1
    assert fetch["leased"] == before["leased"] + 1
    assert fetch["waiting"] == before["waiting"]


def fetches(api: Api, headers: dict[str, str]) -> dict[str, Any]:
    answer = api.client.get("/api/v1/system/jobs", headers=headers)
    assert answer.status_code == 200, answer.text
    kinds = {item["kind"]: item for item in answer.json()["items"]}
    none = {"due": 0, "leased": 0, "waiting": 0, "oldest_due_seconds": 0.0}
    return dict(kinds.get("fetch", none))


def admin_headers(api: Api, trawl: Trawl) -> dict[str, str]:
    """A verified account made admin (as `trawl users set-role` does), signed in."""
    _, email = api.verified_user("admin")
    trawl.users.set_role(Context.system("test"), email, "admin")
    answer = api.token(email)
    assert answer.status_code == 200, answer.text
    return bearer(answer.json()["access_token"])
