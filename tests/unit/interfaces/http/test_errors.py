"""Unexpected failures: 503 when the database is away, 500 without internals."""

from __future__ import annotations

from typing import Any

import psycopg_pool
import pytest

from application.vectorization.ports import EmbeddingFailed
from interfaces.bootstrap import Trawl
from tests.unit.interfaces.http.api import Api, assert_problem

pytestmark = pytest.mark.unit


class FailingQueries:
    """Project queries that fail the way a dependency would."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def list(self, *_: Any, **__: Any) -> Any:
        raise self.error


def test_a_pool_timeout_is_503_unavailable(api: Api, trawl: Trawl, alice: dict[str, str]) -> None:
    trawl.project_queries = FailingQueries(psycopg_pool.PoolTimeout("no connection"))  # type: ignore[assignment]
    assert_problem(api.client.get("/api/v1/projects", headers=alice), 503, "unavailable")


def test_an_unexpected_error_is_500_and_reveals_nothing(
    api: Api, trawl: Trawl, alice: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    trawl.project_queries = FailingQueries(RuntimeError("dsn=postgresql://u:hunter2@db"))  # type: ignore[assignment]
    answer = api.client.get("/api/v1/projects", headers={**alice, "X-Request-Id": "r-1"})
    problem = assert_problem(answer, 500, "internal-error")
    assert "hunter2" not in answer.text
    assert problem["detail"] == "an unexpected error occurred"
    assert any("r-1" in record.getMessage() for record in caplog.records)


def test_ready_is_503_when_the_database_does_not_answer(api: Api, trawl: Trawl) -> None:
    trawl.ping = lambda: False
    assert_problem(api.client.get("/health/ready"), 503, "unavailable")
    assert api.client.get("/health/live").status_code == 200


class DownEmbedders:
    """Every model's service throttled past its retries."""

    def get(self, model_id: str) -> Any:
        return self

    def embed(self, texts: Any) -> Any:
        raise EmbeddingFailed("bedrock: ThrottlingException")


def test_a_query_the_embedder_cannot_embed_is_503_and_text_search_still_answers(
    api: Api, trawl: Trawl, alice: dict[str, str]
) -> None:
    project = api.create_project(alice)["id"]
    trawl.search.embedders = DownEmbedders()  # type: ignore[assignment]
    answer = api.client.get(f"/api/v1/projects/{project}/search?q=harbour", headers=alice)
    problem = assert_problem(answer, 503, "embedder-unavailable")
    assert answer.headers["retry-after"] == "5"
    assert "mode=text" in problem["detail"]
    assert "Throttling" not in problem["detail"]  # the adapter's reason is only logged
    text = api.client.get(f"/api/v1/projects/{project}/search?q=harbour&mode=text", headers=alice)
    assert text.status_code == 200, text.text
