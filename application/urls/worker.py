"""A pipeline worker: claims jobs from the queue, runs the step, queues the next one.

Jobs are `fetch` (payload ignored: the attempt and fencing token come from
the lease), `extract` and `chunk` (payload `{"version": n}`). The next job is
queued before the current one is completed, so a worker dying in between
leaves a repeated job (harmless: the steps are fenced and idempotent), never a
lost one. Any number of workers may run.
"""

from __future__ import annotations

import logging
import random
import threading
import uuid
from collections.abc import Callable, Sequence
from datetime import timedelta

from application.ports import JobQueue, Lease
from application.urls.pipeline import CHUNK, EXTRACT, RETRY, VECTORIZE, Next, Pipeline
from application.vectorization.vectorize import Job, Vectorizer
from domain.chunks.splitter import ChunkSettings
from domain.urls.values import retry_delay

logger = logging.getLogger(__name__)

FETCH = "fetch"
KINDS = (FETCH, EXTRACT, CHUNK, VECTORIZE)

# A URL's chunk settings (its project's); the defaults until projects hold them.
SettingsFor = Callable[[uuid.UUID], ChunkSettings]
# A URL's embedding model (its project's setting; TRAWL_EMBEDDER until projects hold one).
ModelFor = Callable[[uuid.UUID], str]


class Worker:
    def __init__(
        self,
        queue: JobQueue,
        pipeline: Pipeline,
        owner: str,
        lease_seconds: float = 60.0,
        *,
        settings_for: SettingsFor = lambda _: ChunkSettings(),
        kinds: Sequence[str] = KINDS,
        idle_seconds: float = 0.5,
        max_attempts: int = 5,
        per_host_limit: int | None = None,
        vectorizer: Vectorizer | None = None,
        model_for: ModelFor = lambda _: "wordllama/l2_supercat-256",
        vectorize_batch: int = 16,
    ) -> None:
        self.queue = queue
        self.pipeline = pipeline
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.settings_for = settings_for
        self.kinds = tuple(k for k in kinds if k != VECTORIZE or vectorizer is not None)
        self.idle_seconds = idle_seconds
        self.max_attempts = max_attempts
        self.per_host_limit = per_host_limit  # for fetch jobs: politeness per host
        self.vectorizer = vectorizer
        self.model_for = model_for
        self.vectorize_batch = vectorize_batch  # URLs embedded and recorded together

    def run_once(self, kind: str) -> bool:
        """Claim and run one job of `kind`; False when none was due."""
        per_host = self.per_host_limit if kind == FETCH else None
        limit = self.vectorize_batch if kind == VECTORIZE else 1
        leases = self.queue.claim(
            kind, self.owner, self.lease_seconds, limit=limit, per_host_limit=per_host
        )
        if not leases:
            return False
        if kind == VECTORIZE:
            self._vectorize(leases)
            return True
        lease = leases[0]
        try:
            outcome = self._step(lease)
        except Exception:
            # A bug or an outage (store, blobs): back off, give up after a few tries.
            logger.exception("%s job for %s failed", lease.kind, lease.subject_id)
            if lease.attempt >= self.max_attempts:
                self.queue.complete(lease)
            else:
                self.queue.retry(lease, retry_delay(lease.attempt, random.random()))
            return True
        self._follow(lease, outcome)
        return True

    def run(self, stop: threading.Event) -> None:
        """Run jobs of every kind until `stop` is set.

        When idle it polls less and less often (doubling up to 8x
        `idle_seconds`), so idle workers cost the API next to nothing; any
        job found resets the pace.
        """
        pause = self.idle_seconds
        while not stop.is_set():
            busy = False
            for kind in self.kinds:
                try:
                    busy = self.run_once(kind) or busy
                except Exception:  # the queue itself failed: wait and try again
                    logger.exception("claiming %s jobs failed", kind)
            if busy:
                pause = self.idle_seconds
            else:
                stop.wait(pause)
                pause = min(pause * 2, 8 * self.idle_seconds)

    def _step(self, lease: Lease) -> Next:
        if lease.kind == FETCH:
            return self.pipeline.fetch(lease.subject_id, lease.lease_id, lease.attempt)
        version = int(lease.payload["version"])
        if lease.kind == EXTRACT:
            return self.pipeline.extract(lease.subject_id, version)
        if lease.kind == CHUNK:
            settings = self.settings_for(lease.subject_id)
            return self.pipeline.chunk(lease.subject_id, version, settings)
        raise ValueError(f"unknown job kind {lease.kind!r}")

    def _vectorize(self, leases: list[Lease]) -> None:
        """Several vectorize jobs in one go (one embedder batch, one commit)."""
        assert self.vectorizer is not None
        jobs = [
            Job(lease.subject_id, int(lease.payload["version"]), self.model_for(lease.subject_id))
            for lease in leases
        ]
        try:
            outcomes = self.vectorizer.vectorize_many(jobs)
        except Exception:
            logger.exception("vectorize jobs for %s URLs failed", len(leases))
            for lease in leases:
                if lease.attempt >= self.max_attempts:
                    self.queue.complete(lease)
                else:
                    self.queue.retry(lease, retry_delay(lease.attempt, random.random()))
            return
        for lease, outcome in zip(leases, outcomes, strict=True):
            self._follow(lease, outcome)

    def _follow(self, lease: Lease, outcome: Next) -> None:
        if outcome.step == RETRY and outcome.at is not None:
            # As a delay, so the queue counts it on its own clock.
            delay = max(outcome.at - self.pipeline.clock(), timedelta(0))
            if not self.queue.retry(lease, delay):
                logger.info("lease lost before retrying %s", lease.subject_id)
            return
        # Without a vectorizer (tests of the earlier steps) the chain ends at chunk.
        if outcome.step in (EXTRACT, CHUNK) or (outcome.step == VECTORIZE and self.vectorizer):
            self.queue.enqueue(outcome.step, lease.subject_id, {"version": outcome.version})
        if not self.queue.complete(lease):
            logger.info("lease lost before completing %s %s", lease.kind, lease.subject_id)
