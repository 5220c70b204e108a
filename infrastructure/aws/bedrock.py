"""Amazon Bedrock Titan Text Embeddings V2 through boto3 `bedrock-runtime` `invoke_model`.

Titan embeds one text per call, so a batch fans out over a small thread pool
(`concurrency`), paced by a requests-per-minute budget shared by every thread
of the process. Throttling (ThrottlingException, 429) and transient server
errors are retried here with exponential backoff and jitter; botocore's own
retries are off so the pacing stays ours. A malformed answer (not JSON, no
embedding, wrong length) is an `EmbeddingFailed` that is not transient.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3  # type: ignore[import-untyped]
import numpy as np
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from application.vectorization.ports import EmbeddingFailed, Vectors
from domain.vectorization.models import BEDROCK, parse_model_id

MAX_TEXT_CHARS = 40_000  # Titan v2 takes up to 8,192 tokens; longer text is cut, not refused
_RETRYABLE = {"ThrottlingException", "ServiceUnavailableException", "ModelNotReadyException"}
_SERVER_ERRORS = {"InternalServerException", "ModelTimeoutException"}
_REFUSED_INPUT = {"ValidationException"}  # how Titan turns down an input it cannot embed


class RateLimiter:
    """At most `per_minute` starts per rolling minute, spaced evenly (thread-safe)."""

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 60.0 / per_minute
        self.clock, self.sleep = clock, sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = self.clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            self.sleep(start - now)


class BedrockEmbedder:
    """`Embedder` over Titan v2; model ids `bedrock/amazon.titan-embed-text-v2:0/<256|512|1024>`."""

    def __init__(
        self,
        model_id: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        concurrency: int = 4,
        requests_per_minute: int = 600,
        max_attempts: int = 6,
        backoff_seconds: float = 0.5,
        client: Any = None,
    ) -> None:
        parsed = parse_model_id(model_id)
        if parsed.provider != BEDROCK:
            raise ValueError(f"not a bedrock model id: {model_id}")
        self.model_id = str(parsed)
        self.dimensions = parsed.dimensions
        self._model = parsed.model
        self._client = client or boto3.client(
            "bedrock-runtime",
            region_name=region,
            endpoint_url=endpoint_url,
            config=Config(
                retries={"mode": "standard", "total_max_attempts": 1},  # ours, below
                connect_timeout=5,
                read_timeout=60,
                max_pool_connections=max(concurrency, 1) * 2,
            ),
        )
        self._pool = ThreadPoolExecutor(max(concurrency, 1), thread_name_prefix="bedrock")
        self._limiter = RateLimiter(requests_per_minute)
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        rows = list(self._pool.map(self._one, texts))
        return np.stack(rows).astype(np.float32, copy=False)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _one(self, text: str) -> Vectors:
        body = json.dumps(
            {
                "inputText": text[:MAX_TEXT_CHARS] or " ",
                "dimensions": self.dimensions,
                "normalize": True,
                "embeddingTypes": ["float"],
            }
        )
        for attempt in range(1, self.max_attempts + 1):
            self._limiter.wait()
            try:
                answer = self._client.invoke_model(
                    modelId=self._model,
                    body=body,
                    contentType="application/json",
                    accept="application/json",
                )
                return self._parse(answer["body"].read())
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code not in _RETRYABLE | _SERVER_ERRORS or attempt == self.max_attempts:
                    # Only a refused input is the text's fault, for good; the rest
                    # (throttling, outages, credentials) is worth another try later.
                    refused = code in _REFUSED_INPUT
                    raise EmbeddingFailed(
                        f"bedrock: {code or 'error'}", transient=not refused
                    ) from error
            except BotoCoreError as error:  # connection refused, timeouts
                if attempt == self.max_attempts:
                    raise EmbeddingFailed(f"bedrock: {type(error).__name__}") from error
            # Full jitter: throttled clients spread out instead of retrying in step.
            time.sleep(random.uniform(0, self.backoff_seconds * 2 ** (attempt - 1)))
        raise EmbeddingFailed("bedrock: attempts exhausted")  # pragma: no cover - loop returns

    def _parse(self, raw: bytes) -> Vectors:
        try:
            answer = json.loads(raw)
            values = answer.get("embeddingsByType", {}).get("float") or answer["embedding"]
            vector = np.asarray(values, dtype=np.float32)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            raise EmbeddingFailed("bedrock: malformed answer", transient=False) from error
        if vector.shape != (self.dimensions,) or not np.isfinite(vector).all():
            raise EmbeddingFailed("bedrock: malformed answer", transient=False)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector
