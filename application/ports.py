"""Ports: the interfaces the application needs from the outside world.

Infrastructure implements them; interfaces/bootstrap.py wires the concrete
classes. Nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from application import records
from domain.chunks.splitter import Chunk, ChunkSettings, split


@dataclass(frozen=True)
class MailMessage:
    """One plain-text mail to one recipient."""

    to: str
    subject: str
    body: str


class Mailer(Protocol):
    """Sends mail. Adapters: SMTP, and a directory of .eml files (default)."""

    def send(self, message: MailMessage) -> None:
        """Deliver the message or raise; never log the body (it holds tokens)."""
        ...


class KeyVault(Protocol):
    """Per-subject keys for personal data (crypto-shredding).

    Each data subject (a user, an invited address) has its own key. Deleting
    the key makes every personal field encrypted with it unreadable forever.
    """

    def encrypt(self, subject_id: UUID, plaintext: str) -> str:
        """Encrypt with the subject's key, creating the key when missing."""
        ...

    def decrypt(self, subject_id: UUID, ciphertext: str) -> str | None:
        """Decrypt, or None when the subject's key has been deleted."""
        ...

    def forget(self, subject_id: UUID) -> None:
        """Delete the subject's key (irreversible)."""
        ...

    def digest(self, subject_id: UUID, value: str) -> str:
        """A keyed hash (HMAC-SHA256, hex) of `value` under the subject's key.

        Used for lookups of personal values (an email's uniqueness claim)
        without storing them in plaintext.
        """
        ...


class PasswordHasher(Protocol):
    """Slow, salted password hashing (argon2 in production)."""

    def hash(self, password: str) -> str: ...

    def verify(self, hashed: str, password: str) -> bool: ...


class PositionWaiter(Protocol):
    """Tells when read models have applied a log position."""

    def positions(self) -> dict[str, int]:
        """The position each view has read up to."""
        ...

    def wait(self, views: Sequence[str], position: int, timeout: float) -> bool:
        """Block until every named view has read `position`; False on timeout."""
        ...

    async def wait_async(self, views: Sequence[str], position: int, timeout: float) -> bool:
        """The same, on an event loop, without holding a thread."""
        ...


class SideTables(Protocol):
    """Reads of the rows the recorder writes beside events (strongly consistent)."""

    def claim_owner(self, scope: str, value: str) -> UUID | None: ...

    def principal(self, user_id: UUID) -> records.Principal | None: ...

    def api_key_by_hash(self, key_hash: str) -> records.ApiKeyRow | None: ...

    def api_keys(self, user_id: UUID) -> list[records.ApiKeyRow]: ...

    def idempotency(
        self, principal: str, method: str, path: str, key: str
    ) -> records.IdempotencyRecord | None: ...


@dataclass(frozen=True)
class BlobRef:
    """A stored blob as events record it (claim check): its key, hash and size."""

    key: str
    sha256: str
    size: int


class BlobNotFound(Exception):
    """No blob under this key: never written, or deleted since."""


class BlobCorrupted(Exception):
    """The stored bytes no longer match the hash in their key; never served."""


class BlobStore(Protocol):
    """Content-addressed, write-once blobs (raw pages, extracted text, vectors).

    A blob's key is `<kind>/sha256/<hex[:2]>/<hex>`, `kind` a short slug
    (`[a-z0-9-]{1,32}`: "raw", "text", "vectors"). Keys in any other form are
    refused with ValueError. Adapters: a local directory (default) and S3.
    """

    def put(self, data: bytes, *, kind: str) -> BlobRef:
        """Store `data` under its hash; the same bytes give the same key, written once."""
        ...

    def get(self, key: str) -> bytes:
        """The blob's bytes, checked against its hash.

        Raises BlobNotFound when absent, BlobCorrupted when the bytes do not
        match the key's hash.
        """
        ...

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the blob; deleting a missing blob is not an error."""
        ...

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Every stored key starting with `prefix` (retention sweeps), in no set order."""
        ...


@dataclass(frozen=True)
class Extracted:
    """The readable main text of one fetched page, with what it says about itself."""

    text: str
    title: str | None
    language: str | None  # as the page states it, lower-cased ("fr", "en-us"); never guessed
    word_count: int
    # The text split into chunks, when the caller asked (`chunking`).
    chunks: tuple[Chunk, ...] | None = None

    def chunked(self, chunking: ChunkSettings | None) -> Extracted:
        """This, with its text split by `chunking` (None: as it is)."""
        if chunking is None:
            return self
        return replace(self, chunks=tuple(split(self.text, chunking)))


class ExtractionFailed(Exception):
    """Nothing usable came out of the page (empty, boilerplate only, undecodable)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Extractor(Protocol):
    """Turns a fetched body into its main text: boilerplate, navigation and comments removed.

    Deterministic and offline: the same bytes give the same result, and
    nothing is fetched. Adapter: trafilatura.
    """

    def extract(
        self, body: bytes, *, url: str, content_type: str, chunking: ChunkSettings | None = None
    ) -> Extracted:
        """The main text of `body` (HTML or plain text, per `content_type`),
        split into `chunks` too when `chunking` is given (`Extracted.chunked`):
        both are CPU work, done wherever the extractor runs (a child process).

        Raises ExtractionFailed when nothing usable comes out.
        """
        ...


@dataclass(frozen=True)
class FetchRequest:
    """One page to fetch, with the validators of the version we already hold.

    `may_follow`, when given, is asked before each redirect hop: False stops
    the fetch with FetchError("robots-disallowed") (robots.txt of the target).
    """

    url: str
    etag: str | None = None
    last_modified: str | None = None
    may_follow: Callable[[str], bool] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class FetchResult:
    """A fetched page, or `not_modified` (304, empty body) for a conditional fetch.

    `final_url` is the URL after redirects, `redirects` every URL left on the way
    (credentials removed); `content_type` is the media type without parameters.
    """

    status: int
    final_url: str
    content_type: str
    body: bytes
    etag: str | None
    last_modified: str | None
    not_modified: bool
    redirects: list[str]


class FetchError(Exception):
    """A fetch that gave no page, with a stable `reason` slug.

    Reasons: `not-http`, `address-refused`, `dns-failed`, `connect-failed`,
    `tls-failed`, `timeout`, `too-many-redirects`, `bad-redirect`, `too-large`,
    `content-type`, `http-4xx`, `http-5xx`, `robots-disallowed` (a redirect to
    a page its robots.txt disallows), `robots-unreachable`. `transient` tells the worker to
    retry with backoff (connection errors, timeouts, 429, 5xx), no sooner than
    `retry_after` seconds when the server said so.
    """

    def __init__(
        self,
        reason: str,
        detail: str = "",
        *,
        transient: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.transient = transient
        self.retry_after = retry_after


class Fetcher(Protocol):
    """Fetches web pages safely: http(s) only, public addresses only, bounded.

    Adapter: infrastructure/fetching (httpx, connection pinned to the checked IP).
    """

    def fetch(self, request: FetchRequest) -> FetchResult:
        """The page at `request.url` after redirects, or raise FetchError."""
        ...


class Robots(Protocol):
    """robots.txt, as the site's owner wrote it (RFC 9309).

    Adapter: infrastructure/fetching/robots.py (fetched through the Fetcher,
    cached per origin). Raises FetchError (transient) when robots.txt cannot be
    read for now (5xx, timeout), so the fetch is retried rather than blocked.
    """

    def allowed(self, url: str) -> bool:
        """May Trawl fetch `url`?"""
        ...


@dataclass(frozen=True)
class Backlog:
    """One kind of job in the queue: how many wait for a worker now (`due`),
    run (`leased`) or wait for a later time (`waiting`: retries, refreshes),
    and how long the oldest due one has waited (0 when none is)."""

    kind: str
    due: int
    leased: int
    waiting: int
    oldest_due_seconds: float


@dataclass(frozen=True)
class Job:
    """A queued job as the queue holds it (progress: next attempt, attempts so far)."""

    job_id: UUID
    kind: str
    subject_id: UUID
    payload: dict[str, Any]
    not_before: datetime
    attempts: int
    host: str | None
    leased_until: datetime | None  # None when no worker holds it


@dataclass(frozen=True)
class Lease:
    """A claimed job. `lease_id` is the fencing token: only its holder may finish the job."""

    job_id: UUID
    lease_id: UUID
    kind: str
    subject_id: UUID
    payload: dict[str, Any]
    attempt: int  # 1 on the first claim
    leased_until: datetime  # as granted at claim time, by the database clock


class JobQueue(Protocol):
    """A durable work queue with leases: any number of workers, each job done once.

    At most one job per (kind, subject): enqueuing again merges into it. A
    claimed job is leased for a while; a worker that dies simply lets the
    lease expire and the job becomes claimable again under a NEW lease id, so
    the late worker's `complete`/`retry`/`extend` return False and change
    nothing. Times come from the queue's clock, never the worker's. Adapter:
    infrastructure/postgres/queue.py.
    """

    def enqueue(
        self,
        kind: str,
        subject_id: UUID,
        payload: Mapping[str, Any],
        not_before: datetime | timedelta | None = None,
        *,
        host: str | None = None,
    ) -> UUID:
        """Queue a job (at once, at a time, or after a delay); the job's id.

        Idempotent per (kind, subject): a second enqueue keeps the earliest
        not_before and the latest payload. Enqueued while a worker holds the
        job, it runs once more after that worker finishes.
        """
        ...

    def claim(
        self,
        kind: str,
        owner: str,
        lease_seconds: float,
        limit: int = 1,
        per_host_limit: int | None = None,
        linger_seconds: float | None = None,
    ) -> list[Lease]:
        """Lease up to `limit` due jobs of `kind`; never one another worker holds.

        With `per_host_limit`, no host gets more live leases of this kind than that.
        With `linger_seconds`, none are leased until `limit` are due or the
        oldest due one has waited that long (a batch fills up under load; a
        lone job is leased by the first claim after that).
        """
        ...

    def extend(self, lease: Lease, seconds: float) -> bool:
        """Heartbeat: hold the job `seconds` from now; False when the lease was lost."""
        ...

    def complete(self, lease: Lease) -> bool:
        """The job is done: remove it; False (and nothing changed) when the lease was lost."""
        ...

    def complete_many(self, leases: Sequence[Lease]) -> list[bool]:
        """`complete` for several jobs in one transaction; one answer per lease."""
        ...

    def hand_off(self, lease: Lease, kind: str, payload: Mapping[str, Any]) -> bool:
        """Complete the job and queue the next step's job (`kind`, for any
        worker) in one transaction; the next job is queued even when our lease
        was lost (False), as a separate `enqueue` would have."""
        ...

    def retry(self, lease: Lease, not_before: datetime | timedelta) -> bool:
        """Release the job to run again later (backoff); False when the lease was lost."""
        ...

    def advance(
        self,
        lease: Lease,
        kind: str,
        payload: Mapping[str, Any],
        owner: str,
        lease_seconds: float,
    ) -> Lease | None:
        """Complete the job and lease the next step's job to `owner` in one go;
        None when the lease was lost or the next job is someone else's (it is
        queued all the same)."""
        ...

    def postpone(self, lease: Lease, not_before: datetime | timedelta) -> bool:
        """Like `retry`, but this claim does not count as an attempt (a paused project)."""
        ...

    def release_expired(self) -> int:
        """Watchdog: free every expired lease so the job is claimable; how many."""
        ...

    def stats(self) -> dict[str, dict[str, int]]:
        """Per kind, how many jobs are `due`, `leased` (live lease) and `waiting`."""
        ...

    def job(self, kind: str, subject_id: UUID) -> Job | None:
        """The live job of this kind for the subject, if any."""
        ...

    def delete_for(self, subject_id: UUID) -> int:
        """Drop every job of the subject (it was removed); how many."""
        ...
