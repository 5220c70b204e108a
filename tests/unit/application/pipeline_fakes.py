"""In-memory fakes of the pipeline's ports: fetcher, extractor, blob store, clock."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from application.ports import (
    BlobNotFound,
    BlobRef,
    Extracted,
    ExtractionFailed,
    FetchError,
    FetchRequest,
    FetchResult,
)
from application.store import NotFound, TrawlStore
from domain.chunks.splitter import ChunkSettings
from domain.common import Context
from domain.projects.aggregate import Project
from domain.urls.aggregate import Url
from infrastructure.memory.recorder import MemoryRecorder
from infrastructure.memory.vault import MemoryKeyVault

PROJECT = uuid.UUID("00000000-0000-4000-8000-000000000001")
ADDRESS = "https://example.org/article"


def page(body: bytes, *, etag: str | None = '"v1"', status: int = 200) -> FetchResult:
    return FetchResult(
        status=status,
        final_url=ADDRESS,
        content_type="text/html",
        body=body,
        etag=etag,
        last_modified="Wed, 21 Oct 2026 07:28:00 GMT",
        not_modified=False,
        redirects=[],
    )


NOT_MODIFIED = FetchResult(304, ADDRESS, "text/html", b"", '"v1"', None, True, [])


def article(words: int = 600, seed: str = "alpha") -> bytes:
    """An HTML page of several paragraphs: more than one chunk of text."""
    paragraphs = []
    for p in range(words // 60):
        sentence = " ".join(f"{seed}{p}w{i}" for i in range(12)) + "."
        paragraphs.append("<p>" + " ".join([sentence] * 5) + "</p>")
    return ("<html><body>" + "\n".join(paragraphs) + "</body></html>").encode()


class FakeFetcher:
    """Answers with the queued results (or raises the queued errors), in order."""

    def __init__(self, *answers: FetchResult | FetchError) -> None:
        self.answers = list(answers)
        self.requests: list[FetchRequest] = []
        self.during: Callable[[], None] | None = None  # runs inside the next fetch

    def fetch(self, request: FetchRequest) -> FetchResult:
        self.requests.append(request)
        if self.during is not None:
            during, self.during = self.during, None
            during()
        answer = self.answers.pop(0)
        if isinstance(answer, FetchError):
            raise answer
        return answer


class FakeExtractor:
    """Paragraph text from `<p>` elements, joined by blank lines."""

    def extract(
        self, body: bytes, *, url: str, content_type: str, chunking: ChunkSettings | None = None
    ) -> Extracted:
        paragraphs = re.findall(r"<p>(.*?)</p>", body.decode())
        if not paragraphs:
            raise ExtractionFailed("empty")
        text = "\n\n".join(paragraphs)
        return Extracted(text, None, "en", len(text.split())).chunked(chunking)


class MemoryBlobs:
    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def put(self, data: bytes, *, kind: str) -> BlobRef:
        digest = hashlib.sha256(data).hexdigest()
        key = f"{kind}/sha256/{digest[:2]}/{digest}"
        self.blobs.setdefault(key, data)
        return BlobRef(key, digest, len(data))

    def get(self, key: str) -> bytes:
        try:
            return self.blobs[key]
        except KeyError:
            raise BlobNotFound(key) from None

    def exists(self, key: str) -> bool:
        return key in self.blobs

    def delete(self, key: str) -> None:
        self.blobs.pop(key, None)

    def keys(self, prefix: str = "") -> Iterator[str]:
        return iter([k for k in self.blobs if k.startswith(prefix)])


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def memory_store() -> TrawlStore:
    return TrawlStore({}, MemoryKeyVault(), lambda _: MemoryRecorder())


def ensure_project(store: TrawlStore, project_id: uuid.UUID = PROJECT) -> Project:
    """The project the test URLs belong to (created on first use)."""
    try:
        return store.load(Project, project_id)
    except NotFound:
        project = Project.create(Context.system("test"), project_id, uuid.uuid4(), "Pipeline")
        store.commit(project)
        return project


def added_url(store: TrawlStore, address: str = ADDRESS) -> uuid.UUID:
    """A Url added to a project with its first fetch scheduled."""
    ctx = Context.system("test")
    ensure_project(store)
    url = Url.add(ctx, PROJECT, address)
    url.schedule_fetch(ctx, "added", None)
    store.commit(url)
    return url.id


def schedule(store: TrawlStore, url_id: uuid.UUID, reason: str = "refresh") -> None:
    url = store.load(Url, url_id)
    url.schedule_fetch(Context.system("test"), reason, None)
    store.commit(url)


def topics(store: TrawlStore) -> list[str]:
    return [n.topic for n in store.recorder.select_notifications(1, limit=100_000)]
