"""A pipeline worker: claims jobs from the queue, runs the step, queues the next one.

Jobs are `fetch` (payload ignored: the attempt and fencing token come from
the lease), `extract` (payload `{"version": n}`: extracts and chunks, one
commit) and `chunk` (the same payload; without a version it re-chunks the
current one with the project's settings), and
`refresh` (the project's refresh interval came round). The worker that
finishes a step takes the next step's job itself (`advance`: queued, leased
and the current job completed in one transaction) and runs it at once, or,
when its `kinds` leave that step out, queues it for another (`hand_off`);
`vectorize` jobs (payload `{"version": n}`, none: the current version) are
claimed in batches instead, embedded and recorded together. A fetch of an
archived project's URL is postponed (`paused`) without counting as an
attempt. A worker dying between steps leaves a repeated job (harmless: the
steps are fenced and idempotent), never a lost one. Any number of workers may
run.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import timedelta

from application.ports import JobQueue, Lease
from application.urls.doorbell import EVERY_KIND, Bell
from application.urls.pipeline import (
    CHUNK,
    DONE,
    EXTRACT,
    FAILED,
    PAUSED,
    RETRY,
    STALE,
    VECTORIZE,
    Next,
    Pipeline,
)
from application.vectorization.vectorize import CURRENT, Job, Vectorizer
from domain.urls.values import retry_delay

logger = logging.getLogger(__name__)

FETCH, REFRESH = "fetch", "refresh"
KINDS = (FETCH, EXTRACT, CHUNK, VECTORIZE, REFRESH)
# Outcomes that end a job: nothing follows it.
_FINISHED = (DONE, STALE, FAILED)
# An archived project's fetches look again this often (a restore also wakes them).
PAUSE = timedelta(minutes=10)


class Worker:
    def __init__(
        self,
        queue: JobQueue,
        pipeline: Pipeline,
        owner: str,
        lease_seconds: float = 60.0,
        *,
        kinds: Sequence[str] = KINDS,
        idle_seconds: float = 0.5,
        max_attempts: int = 5,
        per_host_limit: int | None = None,
        wake: Bell | None = None,
        vectorizer: Vectorizer | None = None,
        vectorize_batch: int = 16,
        vectorize_linger: float | None = None,
        vectorize_stream: int = 8,
    ) -> None:
        self.wake = wake or Bell()  # rung: jobs of some kind may have arrived
        self.queue = queue
        self.pipeline = pipeline
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.kinds = tuple(k for k in kinds if k != VECTORIZE or vectorizer is not None)
        self.idle_seconds = idle_seconds
        self.max_attempts = max_attempts
        self.per_host_limit = per_host_limit  # for fetch jobs: politeness per host
        self.vectorizer = vectorizer
        self.vectorize_batch = vectorize_batch  # URLs embedded and recorded together
        # Seconds a vectorize job waits for its batch to fill (then the next
        # claim takes it, ~0.5 s later when idle): under load, jobs claimed one
        # by one as they came cost a claim, an embedder call, a commit each
        # (docs/benchmarks.md). None: claimed at once.
        self.vectorize_linger = vectorize_linger
        # Claims run back to back through the vectorizer's stream while jobs
        # keep coming (each read while the one before embeds), at most this
        # many before the worker turns to its other kinds again.
        self.vectorize_stream = vectorize_stream

    def run_once(self, kind: str) -> bool:
        """Claim and run one job of `kind` (of vectorize, a batch, and the
        batches after it while they come); False when none was due."""
        leases = self._claim(kind)
        if not leases:
            return False
        if kind == VECTORIZE:
            self._vectorize(leases)
            return True
        lease: Lease | None = leases[0]
        while lease is not None:  # a URL's next steps run here at once, still leased
            lease = self._run(lease)
        return True

    def _claim(self, kind: str) -> list[Lease]:
        per_host = self.per_host_limit if kind == FETCH else None
        limit, linger = (
            (self.vectorize_batch, self.vectorize_linger) if kind == VECTORIZE else (1, None)
        )
        return self.queue.claim(
            kind,
            self.owner,
            self.lease_seconds,
            limit=limit,
            per_host_limit=per_host,
            linger_seconds=linger,
        )

    def _run(self, lease: Lease) -> Lease | None:
        """Run one job; the lease of the next step's job when we hold it."""
        try:
            outcome = self._step(lease)
        except Exception:
            # A bug or an outage (store, blobs): back off, give up after a few tries.
            logger.exception("%s job for %s failed", lease.kind, lease.subject_id)
            if lease.attempt >= self.max_attempts:
                self.queue.complete(lease)
            else:
                self.queue.retry(lease, retry_delay(lease.attempt, random.random()))
            return None
        return self._follow(lease, outcome)

    def run(self, stop: threading.Event) -> None:
        """Run jobs of every kind until `stop` is set.

        A kind whose claim came back empty is claimed again only once the
        bell rings for it (a job of that kind was queued) or every
        `8 * idle_seconds` (jobs that fall due later: retries, refreshes).
        When idle it waits on the bell, polling every kind less and less
        often (doubling up to 8x `idle_seconds`), so idle workers cost next
        to nothing; any job found resets the pace.
        """
        due, pause, polled = set(self.kinds), self.idle_seconds, time.monotonic()
        while not stop.is_set():
            busy = False
            for kind in self.kinds:
                if kind in due and not stop.is_set():
                    if self._claim_and_run(kind):
                        busy = True
                    else:
                        due.discard(kind)
            rung = self.wake.take() if busy else self.wake.wait(pause)
            if busy or rung is not None:
                pause = self.idle_seconds
            else:
                pause = min(pause * 2, 8 * self.idle_seconds)
            if rung is None or time.monotonic() - polled > 8 * self.idle_seconds:
                due, polled = set(self.kinds), time.monotonic()
            elif EVERY_KIND in rung:
                due = set(self.kinds)
            else:
                due |= rung & set(self.kinds)

    def _claim_and_run(self, kind: str) -> bool:
        try:
            return self.run_once(kind)
        except Exception:  # the queue itself failed: wait and try again
            logger.exception("claiming %s jobs failed", kind)
            return False

    def _step(self, lease: Lease) -> Next:
        if lease.kind == FETCH:
            return self.pipeline.fetch(lease.subject_id, lease.lease_id, lease.attempt)
        if lease.kind == REFRESH:
            return self.pipeline.refresh(lease.subject_id)
        version = lease.payload.get("version")
        if lease.kind == EXTRACT:
            return self.pipeline.extract(lease.subject_id, int(version or 0))
        if lease.kind == CHUNK:
            return self.pipeline.chunk(lease.subject_id, None if version is None else int(version))
        raise ValueError(f"unknown job kind {lease.kind!r}")

    def _vectorize(self, leases: list[Lease]) -> None:
        """A claim of vectorize jobs and, while they come, the claims after it
        (up to `vectorize_stream` batches), through the vectorizer's stream:
        the next claim is read while this one is embedded."""
        assert self.vectorizer is not None

        def claims() -> Iterator[tuple[list[Lease], list[Job]]]:
            claimed = leases
            for number in range(1, self.vectorize_stream + 1):
                # Model: the project's (None), as it is when the batch is read.
                yield claimed, [Job(c.subject_id, _version(c), None, c.attempt) for c in claimed]
                if number == self.vectorize_stream:
                    return
                try:
                    claimed = self._claim(VECTORIZE)
                except Exception:  # the queue failed: the claims so far finish
                    logger.exception("claiming vectorize jobs failed")
                    return
                if not claimed:
                    return

        for claimed, outcomes in self.vectorizer.stream(claims()):
            self._vectorized(claimed, outcomes)

    def _vectorized(self, leases: list[Lease], outcomes: list[Next] | Exception) -> None:
        """Complete (or retry, or follow) one claim's jobs by their outcomes."""
        if isinstance(outcomes, Exception):
            logger.error("vectorize jobs for %s URLs failed", len(leases), exc_info=outcomes)
            for lease in leases:
                if lease.attempt >= self.max_attempts:
                    self.queue.complete(lease)
                else:
                    self.queue.retry(lease, retry_delay(lease.attempt, random.random()))
            return
        # Finished jobs complete together; the rest (retry, re-chunk) one by one.
        finished = [
            lease
            for lease, outcome in zip(leases, outcomes, strict=True)
            if outcome.step in _FINISHED
        ]
        for lease, done in zip(finished, self.queue.complete_many(finished), strict=True):
            if not done:
                logger.info("lease lost before completing vectorize %s", lease.subject_id)
        for lease, outcome in zip(leases, outcomes, strict=True):
            if outcome.step not in _FINISHED:
                following = self._follow(lease, outcome)
                while following is not None:  # e.g. a chunk job, leased to us
                    following = self._run(following)

    def _follow(self, lease: Lease, outcome: Next) -> Lease | None:
        if outcome.step == PAUSED:
            if not self.queue.postpone(lease, PAUSE):
                logger.info("lease lost before postponing %s", lease.subject_id)
            return None
        if outcome.step == RETRY and outcome.at is not None:
            # As a delay, so the queue counts it on its own clock.
            delay = max(outcome.at - self.pipeline.clock(), timedelta(0))
            if not self.queue.retry(lease, delay):
                logger.info("lease lost before retrying %s", lease.subject_id)
            return None
        payload = {"version": outcome.version}
        if outcome.step in (EXTRACT, CHUNK) and outcome.step in self.kinds:
            # The next step's job is queued and leased to us in the same
            # transaction that completes this one: a crash leaves it queued.
            return self.queue.advance(lease, outcome.step, payload, self.owner, self.lease_seconds)
        # Vectorize jobs wait to be claimed in batches, and a step this worker
        # does not run waits for one that does. Without a vectorizer (tests of
        # the earlier steps) the chain ends at chunk.
        if outcome.step in (EXTRACT, CHUNK) or (
            outcome.step == VECTORIZE and self.vectorizer is not None
        ):
            completed = self.queue.hand_off(lease, outcome.step, payload)
        else:
            completed = self.queue.complete(lease)
        if not completed:
            logger.info("lease lost before completing %s %s", lease.kind, lease.subject_id)
        return None


def _version(lease: Lease) -> int:
    """A vectorize job's version; none (a model change): the URL's current one."""
    return int(lease.payload.get("version") or CURRENT)
