"""Project settings, refresh, and a URL's versions, chunks and text over HTTP."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import TestClient

from application.urls.pipeline import Pipeline
from interfaces.bootstrap import Trawl
from tests.unit.application.pipeline_fakes import FakeExtractor, FakeFetcher, article, page
from tests.unit.interfaces.http.api import Api, assert_problem

pytestmark = pytest.mark.unit


def settings_of(client: TestClient[Any], auth: dict[str, str], project: str) -> Any:
    return client.get(f"/api/v1/projects/{project}", headers=auth).json()["settings"]


def chunked_url(client: TestClient[Any], trawl: Trawl, auth: dict[str, str], project: str) -> str:
    added = client.post(
        f"/api/v1/projects/{project}/urls", json={"urls": ["https://example.com/a"]}, headers=auth
    )
    url_id = added.json()["items"][0]["id"]
    blobs = trawl.url_details.blobs
    pipeline = Pipeline(trawl.store, FakeFetcher(page(article())), FakeExtractor(), blobs)
    assert pipeline.fetch(uuid.UUID(url_id), uuid.uuid4(), 1).step == "extract"
    assert pipeline.extract(uuid.UUID(url_id), 1).step == "vectorize"
    return str(url_id)


def test_settings_change_partially_and_null_turns_refresh_off(
    client: TestClient[Any], api: Api, alice: dict[str, str]
) -> None:
    project = api.create_project(alice)["id"]
    path = f"/api/v1/projects/{project}/settings"

    changed = client.patch(
        path, json={"chunk_size": 600, "refresh_interval_seconds": 3600}, headers=alice
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 3  # created, chunking, refresh: one event each
    assert settings_of(client, alice, project) == {
        "chunk_size": 600,
        "chunk_overlap": 150,
        "refresh_interval_seconds": 3600,
        "embedding_model": "wordllama/l2_supercat-256",
    }
    off = client.patch(path, json={"refresh_interval_seconds": None}, headers=alice)
    assert off.status_code == 200 and off.json()["version"] == 4
    assert settings_of(client, alice, project)["refresh_interval_seconds"] is None
    again = client.patch(path, json={"chunk_size": 600}, headers=alice)
    assert again.json()["version"] == 4  # nothing changed, nothing written


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        ({"chunk_size": 10}, 422, "invalid-chunk-size"),
        ({"chunk_size": 400, "chunk_overlap": 300}, 422, "invalid-chunk-overlap"),
        ({"refresh_interval_seconds": 1}, 422, "invalid-settings"),
        ({"embedding_model": "nope"}, 422, "invalid-model"),
        ({"embedding_model": "wordllama/l2_supercat-300"}, 422, "invalid-model"),
        ({"embedding_model": "wordllama/l2_supercat-0256"}, 422, "invalid-model"),
        ({"chunk_size": "big"}, 400, None),
        ({"colour": "red"}, 400, None),
    ],
)
def test_bad_settings_are_refused_and_write_nothing(
    client: TestClient[Any],
    api: Api,
    alice: dict[str, str],
    body: dict[str, Any],
    status: int,
    slug: str | None,
) -> None:
    project = api.create_project(alice)["id"]
    answer = client.patch(f"/api/v1/projects/{project}/settings", json=body, headers=alice)
    assert_problem(answer, status, slug)
    assert client.get(f"/api/v1/projects/{project}", headers=alice).json()["version"] == 1


def test_versions_chunks_and_text_describe_the_chunked_url(
    client: TestClient[Any], trawl: Trawl, api: Api, alice: dict[str, str]
) -> None:
    project = api.create_project(alice)["id"]
    url_id = chunked_url(client, trawl, alice, project)

    versions = client.get(f"/api/v1/urls/{url_id}/versions", headers=alice).json()["items"]
    text = client.get(f"/api/v1/urls/{url_id}/text", headers=alice)
    chunks = client.get(f"/api/v1/urls/{url_id}/chunks", headers=alice).json()

    assert [(v["version"], v["current"]) for v in versions] == [(1, True)]
    assert versions[0]["chunks"] == len(chunks["items"]) > 1
    assert text.headers["content-type"].startswith("text/plain")
    assert text.headers["x-trawl-version"] == "1"
    for chunk in chunks["items"]:
        assert text.text[chunk["start"] : chunk["end"]] == chunk["text"]
    assert_problem(client.get(f"/api/v1/urls/{url_id}/text?version=2", headers=alice), 404)
    assert client.get(f"/api/v1/urls/{url_id}/text?version=0", headers=alice).status_code == 400


def test_refresh_schedules_a_fetch_and_answers_202(
    client: TestClient[Any], trawl: Trawl, api: Api, alice: dict[str, str]
) -> None:
    project = api.create_project(alice)["id"]
    url_id = chunked_url(client, trawl, alice, project)

    answer = client.post(f"/api/v1/urls/{url_id}/refresh", headers=alice)

    assert answer.status_code == 202, answer.text
    wait = {**alice, "X-Trawl-Wait-For": str(answer.json()["position"])}
    assert client.get(f"/api/v1/urls/{url_id}", headers=wait).json()["status"] == "pending"
    client.delete(f"/api/v1/urls/{url_id}", headers=alice)
    assert_problem(client.post(f"/api/v1/urls/{url_id}/refresh", headers=alice), 409)
