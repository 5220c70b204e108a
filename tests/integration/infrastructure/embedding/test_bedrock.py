"""The Bedrock adapter against a local server speaking the InvokeModel API (boto3 endpoint_url)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

from application.vectorization.ports import EmbeddingFailed
from infrastructure.aws.bedrock import BedrockEmbedder, RateLimiter
from infrastructure.embedding.registry import EmbedderRegistry

pytestmark = pytest.mark.integration

MODEL = "bedrock/amazon.titan-embed-text-v2:0/256"


class FakeBedrock(ThreadingHTTPServer):
    """Answers `POST /model/<id>/invoke`: queued failures first, then Titan-shaped answers."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.failures: list[tuple[int, str]] = []  # (status, error type) to answer first
        self.malformed = False
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()
        self.meet: threading.Barrier | None = None  # requests wait here for each other
        self.in_flight = self.most_in_flight = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeBedrock

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.requests.append(body)
            self.server.paths.append(self.path)
            failure = self.server.failures.pop(0) if self.server.failures else None
        if failure is not None:
            status, kind = failure
            self._answer(status, {"message": "slow down"}, {"x-amzn-ErrorType": kind})
            return
        if self.server.meet is not None:
            with self.server.lock:
                self.server.in_flight += 1
                self.server.most_in_flight = max(self.server.most_in_flight, self.server.in_flight)
            self.server.meet.wait()
            with self.server.lock:
                self.server.in_flight -= 1
        if self.server.malformed:
            self._answer(200, {"embedding": [1.0, 2.0]})  # too short
            return
        seed = sum(map(ord, body["inputText"]))
        vector = np.random.default_rng(seed).normal(size=body["dimensions"])
        self._answer(200, {"embedding": vector.tolist(), "inputTextTokenCount": 3})

    def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def bedrock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBedrock]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = FakeBedrock()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def embedder(server: FakeBedrock, **options: Any) -> BedrockEmbedder:
    return BedrockEmbedder(
        MODEL,
        region="eu-west-1",
        endpoint_url=server.url,
        backoff_seconds=0.01,
        requests_per_minute=60_000,
        **options,
    )


def test_each_text_is_one_titan_call_and_comes_back_normalised(bedrock: FakeBedrock) -> None:
    vectors = embedder(bedrock).embed(["first text", "second text", "third"])
    assert vectors.shape == (3, 256) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert {p for p in bedrock.paths} == {"/model/amazon.titan-embed-text-v2%3A0/invoke"}
    sent = sorted(bedrock.requests, key=lambda body: body["inputText"])
    assert sent[0] == {
        "inputText": "first text",
        "dimensions": 256,
        "normalize": True,
        "embeddingTypes": ["float"],
    }


def test_throttling_is_retried_until_it_succeeds(bedrock: FakeBedrock) -> None:
    bedrock.failures = [(429, "ThrottlingException")] * 3
    vectors = embedder(bedrock, concurrency=1).embed(["only text"])
    assert vectors.shape == (1, 256)
    assert len(bedrock.requests) == 4  # three throttled, then the answer


def test_throttling_past_the_attempts_fails_the_batch(bedrock: FakeBedrock) -> None:
    bedrock.failures = [(429, "ThrottlingException")] * 10
    with pytest.raises(EmbeddingFailed) as failed:
        embedder(bedrock, concurrency=1, max_attempts=3).embed(["only text"])
    assert failed.value.transient and len(bedrock.requests) == 3


def test_a_malformed_answer_is_a_permanent_failure(bedrock: FakeBedrock) -> None:
    bedrock.malformed = True
    with pytest.raises(EmbeddingFailed) as failed:
        embedder(bedrock).embed(["text"])
    assert not failed.value.transient and "malformed" in failed.value.reason


def test_a_refused_request_is_not_retried(bedrock: FakeBedrock) -> None:
    bedrock.failures = [(400, "ValidationException")]
    with pytest.raises(EmbeddingFailed) as failed:
        embedder(bedrock, concurrency=1).embed(["text"])
    assert len(bedrock.requests) == 1
    assert not failed.value.transient  # the text's fault: the URL fails, alone


def test_a_refused_credential_is_not_the_texts_fault(bedrock: FakeBedrock) -> None:
    bedrock.failures = [(403, "AccessDeniedException")]
    with pytest.raises(EmbeddingFailed) as failed:
        embedder(bedrock, concurrency=1).embed(["text"])
    assert len(bedrock.requests) == 1 and failed.value.transient


def test_requests_run_concurrently_up_to_the_limit(bedrock: FakeBedrock) -> None:
    """Each request waits until three are in flight: fewer at once never pass."""
    bedrock.meet = threading.Barrier(3, timeout=10)
    vectors = embedder(bedrock, concurrency=3, max_attempts=1).embed(
        [f"text {n}" for n in range(6)]
    )
    assert vectors.shape == (6, 256)
    assert bedrock.most_in_flight >= 3


def test_the_rate_limit_spaces_request_starts_evenly() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))
        now[0] += seconds

    limiter = RateLimiter(600, clock=lambda: now[0], sleep=sleep)
    for _ in range(6):
        limiter.wait()
    assert slept == [0.1] * 5  # 600 a minute: one start every 0.1 s, the first at once
    now[0] += 5.0  # idle a while: no burst is saved up beyond the next start
    limiter.wait()
    limiter.wait()
    assert slept == [0.1] * 6


def test_the_registry_makes_bedrock_embedders_with_the_configured_endpoint(
    bedrock: FakeBedrock,
) -> None:
    """What `trawl serve` builds from TRAWL_BEDROCK_*: one embedder per model id."""
    registry = EmbedderRegistry(
        region="eu-west-1", endpoint_url=bedrock.url, concurrency=2, requests_per_minute=60_000
    )
    model = "bedrock/amazon.titan-embed-text-v2:0/512"
    made = registry.get(model)
    assert registry.get(model) is made
    assert made.embed(["harbour cranes"]).shape == (1, 512)
    assert bedrock.requests[-1]["dimensions"] == 512
