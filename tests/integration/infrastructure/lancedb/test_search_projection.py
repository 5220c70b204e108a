"""The LanceDB search projection: copies stored vectors, replays harmlessly, forgets on removal."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from application.auth.principal import Caller
from application.urls.pipeline import CHUNK, EXTRACT, VECTORIZE, Pipeline
from application.vectorization.vectorize import Vectorizer
from domain.chunks.splitter import ChunkSettings
from domain.common import Context
from domain.urls.aggregate import Url
from infrastructure.blobs.local import LocalBlobStore
from infrastructure.embedding.registry import EmbedderRegistry
from infrastructure.lancedb import tables as lance
from infrastructure.lancedb.projector import SearchProjector
from infrastructure.lancedb.rebuild import rebuild_search
from infrastructure.postgres.projector import lock_id
from infrastructure.postgres.vector_cache import PostgresVectorCache
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import execute, projector, query, scalar
from tests.support.waiting import eventually
from tests.unit.application.pipeline_fakes import FakeExtractor, FakeFetcher, article, page

pytestmark = pytest.mark.integration

MODEL = "wordllama/l2_supercat-256"
SETTINGS = ChunkSettings(size=400, overlap=0)


class World:
    def __init__(self, trawl: Trawl, tmp_path: Path) -> None:
        self.trawl = trawl
        self.owner = Caller.user(uuid.uuid4(), "user")
        self.project = trawl.projects.create(self.owner, "Search").id
        self.blobs = LocalBlobStore(trawl.settings.blob_path)
        cache = PostgresVectorCache(trawl.search_projector.datastore)
        self.vectorizer = Vectorizer(trawl.store, self.blobs, EmbedderRegistry(), cache)

    def ingest(
        self, address: str, body: bytes, url_id: uuid.UUID | None = None, model: str = MODEL
    ) -> uuid.UUID:
        """Added (or refreshed), fetched, extracted, chunked and vectorized."""
        if url_id is None:
            items = self.trawl.urls.add_many(self.owner, self.project, [address]).extra["items"]
            url_id = uuid.UUID(items[0]["id"])
        else:
            url = self.trawl.store.load(Url, url_id)
            url.schedule_fetch(Context.system("test"), "refresh", None)
            self.trawl.store.commit(url)
        pipeline = Pipeline(self.trawl.store, FakeFetcher(page(body)), FakeExtractor(), self.blobs)
        outcome = pipeline.fetch(url_id, uuid.uuid4(), 1)
        while outcome.step in (EXTRACT, CHUNK, VECTORIZE):
            assert outcome.version is not None
            if outcome.step == EXTRACT:
                outcome = pipeline.extract(url_id, outcome.version)
            elif outcome.step == CHUNK:
                outcome = pipeline.chunk(url_id, outcome.version, SETTINGS)
            else:
                outcome = self.vectorizer.vectorize(url_id, outcome.version, model)
        return url_id

    def project_all(self) -> None:
        for view in ("access", "projects", "urls"):
            projector(self.trawl, view).catch_up()
        self.trawl.search_projector.catch_up()

    def search(self, query: str, mode: str = "hybrid", k: int = 5) -> list[uuid.UUID]:
        found = self.trawl.search.search(self.owner, self.project, query, k, mode)
        return [hit.hit.url_id for hit in found.hits]

    def rows(self, name: str = "chunks_wordllama_l2_supercat_256_g1") -> int:
        table = self.trawl.search_projector.tables.get(name)
        return 0 if table is None else int(table.count_rows())


@pytest.fixture
def world(trawl: Trawl, tmp_path: Path) -> World:
    return World(trawl, tmp_path)


def chunk_count(world: World, url_id: uuid.UUID) -> int:
    chunking = world.trawl.store.load(Url, url_id).chunking
    assert chunking is not None
    return len(chunking.chunks)


def test_a_vectorized_url_is_indexed_and_found_by_its_words(world: World) -> None:
    alpha = world.ingest("https://example.org/alpha", article(seed="alpha"))
    beta = world.ingest("https://example.org/beta", article(seed="beta"))
    world.project_all()

    assert world.rows() == chunk_count(world, alpha) + chunk_count(world, beta)
    assert world.trawl.url_queries.get(world.owner, alpha).indexed
    for mode in ("hybrid", "vector", "text"):
        assert world.search("beta3w4 beta3w5 beta3w6", mode)[0] == beta


def test_a_replay_after_a_crash_writes_the_same_rows(world: World, url: str) -> None:
    """The position is written after the LanceDB commit: losing it replays the merge."""
    world.ingest("https://example.org/alpha", article(seed="alpha"))
    world.project_all()
    rows = world.rows()
    execute(url, "UPDATE trawl_view_positions SET position = 0 WHERE view = 'search'")

    assert world.trawl.search_projector.catch_up() > 0
    assert world.rows() == rows


def test_a_new_version_replaces_the_chunks_in_one_merge(world: World) -> None:
    url_id = world.ingest("https://example.org/alpha", article(words=1200, seed="alpha"))
    world.project_all()
    world.ingest("", article(words=300, seed="gamma"), url_id)
    world.project_all()

    assert world.rows() == chunk_count(world, url_id)
    assert world.search("alpha3w4 alpha3w5", "text") == []
    assert world.search("gamma1w4 gamma1w5", "text")[0] == url_id


def test_removal_and_project_deletion_leave_the_index(world: World, url: str) -> None:
    alpha = world.ingest("https://example.org/alpha", article(seed="alpha"))
    beta = world.ingest("https://example.org/beta", article(seed="beta"))
    world.project_all()

    world.trawl.urls.remove(world.owner, alpha)
    world.project_all()
    assert world.rows() == chunk_count(world, beta)
    assert not world.trawl.url_queries.get(world.owner, alpha).indexed

    world.trawl.projects.delete(world.owner, world.project)
    world.project_all()
    assert world.rows() == 0
    assert scalar(url, "SELECT count(*) FROM trawl_search_urls") == 0


def test_vectors_recorded_after_the_project_was_deleted_stay_out_of_the_index(
    world: World, url: str
) -> None:
    # A vectorize job that started before the deletion records its vectors
    # after it; in the same batch, the drop is not yet in Postgres.
    items = world.trawl.urls.add_many(world.owner, world.project, ["https://example.org/late"])
    url_id = uuid.UUID(items.extra["items"][0]["id"])
    pipeline = Pipeline(
        world.trawl.store, FakeFetcher(page(article(seed="late"))), FakeExtractor(), world.blobs
    )
    outcome = pipeline.fetch(url_id, uuid.uuid4(), 1)
    outcome = pipeline.extract(url_id, outcome.version)
    outcome = pipeline.chunk(url_id, outcome.version, SETTINGS)
    assert outcome.step == VECTORIZE and outcome.version is not None
    world.trawl.projects.delete(world.owner, world.project)
    world.vectorizer.vectorize(url_id, outcome.version, MODEL)

    world.project_all()  # one batch: the deletion, then the vectors

    assert world.rows() == 0
    assert scalar(url, "SELECT count(*) FROM trawl_search_urls") == 0


def test_a_failing_flush_before_a_removal_stops_the_batch_and_never_parks_the_removal(
    world: World, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    alpha = world.ingest("https://example.org/alpha", article(seed="alpha"))
    world.trawl.urls.remove(world.owner, alpha)  # one batch: its vectors, then its removal
    tables = world.trawl.search_projector.tables
    upsert = tables.upsert_urls
    calls: list[str] = []

    def fails_once(name: str, dimensions: int, urls: Any) -> None:
        calls.append(name)
        if len(calls) == 1:
            raise ValueError("a bad write")
        upsert(name, dimensions, urls)

    monkeypatch.setattr(tables, "upsert_urls", fails_once)
    with pytest.raises(ValueError):
        world.project_all()
    world.project_all()

    assert world.rows() == 0
    assert scalar(url, "SELECT count(*) FROM trawl_parked_events") == 0


def test_an_event_it_cannot_apply_is_parked_and_the_rest_goes_on(world: World, url: str) -> None:
    broken = world.ingest("https://example.org/alpha", article(seed="alpha"))
    held = world.trawl.store.load(Url, broken).vectors_for(MODEL)
    assert held is not None
    world.blobs.delete(held.vectors_key)  # lost: the event cannot be applied
    fine = world.ingest("https://example.org/beta", article(seed="beta"))
    world.project_all()

    parked = scalar(url, "SELECT count(*) FROM trawl_parked_events WHERE view = 'search'")
    assert parked == 1
    assert world.rows() == chunk_count(world, fine)
    assert world.trawl.search_projector.position() == world.trawl.store.head()


class FlakyBlobs:
    """The projector's blob store, timing out on one key until told to recover."""

    def __init__(self, inner: Any, key: str) -> None:
        self.inner, self.key, self.down = inner, key, True

    def get(self, key: str) -> bytes:
        if self.down and key == self.key:
            raise TimeoutError(f"read of {key} timed out")
        return self.inner.get(key)  # type: ignore[no-any-return]


def test_a_blob_store_outage_stops_the_batch_and_the_retry_indexes_the_url(
    world: World, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A passing outage is not the event's fault: nothing is parked, the
    position stays before the event, and the next try indexes the URL."""
    alpha = world.ingest("https://example.org/alpha", article(seed="alpha"))
    held = world.trawl.store.load(Url, alpha).vectors_for(MODEL)
    assert held is not None
    search = world.trawl.search_projector
    flaky = FlakyBlobs(search.blobs, held.vectors_key)
    monkeypatch.setattr(search, "blobs", flaky)
    for view in ("access", "projects", "urls"):
        projector(world.trawl, view).catch_up()

    with pytest.raises(TimeoutError):
        search.catch_up()
    assert scalar(url, "SELECT count(*) FROM trawl_parked_events") == 0
    assert search.position() < world.trawl.store.head()
    assert not world.trawl.url_queries.get(world.owner, alpha).indexed

    flaky.down = False
    search.catch_up()
    assert world.rows() == chunk_count(world, alpha)
    assert world.trawl.url_queries.get(world.owner, alpha).indexed
    assert search.position() == world.trawl.store.head()


def test_an_event_failing_transiently_past_the_limit_is_parked_and_the_view_goes_on(
    world: World, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An outage that does not end (an object archived away) must not stop the view."""
    alpha = world.ingest("https://example.org/alpha", article(seed="alpha"))
    beta = world.ingest("https://example.org/beta", article(seed="beta"))
    held = world.trawl.store.load(Url, alpha).vectors_for(MODEL)
    assert held is not None
    search, now = world.trawl.search_projector, [0.0]
    monkeypatch.setattr(search, "blobs", FlakyBlobs(search.blobs, held.vectors_key))
    monkeypatch.setattr(search, "clock", lambda: now[0])
    for view in ("access", "projects", "urls"):
        projector(world.trawl, view).catch_up()

    for at in (0.0, search.park_after_seconds - 1):
        now[0] = at
        with pytest.raises(TimeoutError):
            search.catch_up()
    now[0] = search.park_after_seconds
    search.catch_up()

    assert scalar(url, "SELECT count(*) FROM trawl_parked_events WHERE view = 'search'") == 1
    assert world.rows() == chunk_count(world, beta)
    assert search.position() == world.trawl.store.head()


def test_a_second_writer_waits_while_the_first_holds_the_lock(world: World, url: str) -> None:
    world.ingest("https://example.org/alpha", article(seed="alpha"))
    with psycopg.connect(url, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (lock_id("search"),))
        assert world.trawl.search_projector.run_batch() == 0  # not the writer now
        assert world.rows() == 0
        # Released here: closing the connection frees it only once the backend exits.
        other.execute("SELECT pg_advisory_unlock(%s)", (lock_id("search"),))
    assert world.trawl.search_projector.catch_up() > 0
    assert world.rows() > 0


def test_the_index_keeps_up_with_the_log_while_the_ann_index_trains(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ANN build takes minutes at 1M rows: it must not hold up indexing, and
    no compaction may run on that table meanwhile (it would void the build)."""
    search = world.trawl.search_projector
    world.ingest("https://example.org/alpha", article(seed="alpha"))
    world.project_all()
    building, release = threading.Event(), threading.Event()

    def slow_build(table: Any, rows: int) -> None:
        building.set()
        assert release.wait(60)

    monkeypatch.setattr(search.tables, "build_ann", slow_build)
    monkeypatch.setattr(search.tables, "ann_threshold", 1)
    monkeypatch.setattr(search, "optimize_seconds", 0.0)  # between every batch
    training = threading.Thread(target=search.train)
    stop = threading.Event()
    follower = threading.Thread(target=search.follow, args=(stop, 0.1))
    training.start()
    try:
        assert building.wait(30)
        assert search.train() is False  # one training at a time, across processes too
        name = search.tables.names(1)[0]
        assert search.tables.optimize(name) is False  # not while its ANN index trains
        follower.start()
        beta = world.ingest("https://example.org/beta", article(seed="beta"))
        for view in ("access", "projects", "urls"):  # the search's access check reads them
            projector(world.trawl, view).catch_up()
        eventually(
            lambda: world.search("beta3w4 beta3w5 beta3w6", "text")[:1] == [beta],
            timeout=30,
            what="the new URL to be searchable during the build",
        )
        assert training.is_alive()  # still building
    finally:
        release.set()
        training.join(30)
        stop.set()
        if follower.is_alive():
            follower.join(30)
    assert search.train() is True
    assert search.tables.optimize(name) is True


def test_a_rebuild_reports_its_progress_in_log_positions_up_to_the_head(world: World) -> None:
    """The search topics are a fraction of the log: the bar moves by position."""
    for seed in ("alpha", "beta", "gamma"):
        world.ingest(f"https://example.org/{seed}", article(seed=seed))
    world.project_all()
    live = world.trawl.search_projector
    rows = world.rows()
    small = SearchProjector(live.store, live.datastore, live.tables, live.blobs, batch_size=2)
    reports: list[tuple[int, int]] = []

    read = rebuild_search(small, lambda done, position: reports.append((done, position)))

    head = world.trawl.store.head()
    positions = [position for _, position in reports]
    assert positions == sorted(positions)
    assert positions[0] < head and positions[-1] == head
    assert reports[-1][0] == read
    assert world.rows("chunks_wordllama_l2_supercat_256_g2") == rows
    assert world.trawl.search_projector.tables.get("chunks_wordllama_l2_supercat_256_g1") is None


def test_a_rebuild_drops_the_tables_an_interrupted_rebuild_left(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.ingest("https://example.org/alpha", article(seed="alpha"))
    world.project_all()
    live = world.trawl.search_projector
    drop = live.tables.drop

    def fails(name: str) -> None:
        raise OSError("the disk went away")

    monkeypatch.setattr(live.tables, "drop", fails)
    with pytest.raises(OSError):
        rebuild_search(live)  # swapped generation 2 in, then failed dropping generation 1
    monkeypatch.setattr(live.tables, "drop", drop)
    assert live.generation() == 2 and live.tables.names(1)

    checking = live.tables.create(lance.table_name(MODEL, 1_000_002), 256).name  # `--check`'s

    rebuild_search(live)

    assert live.generation() == 3
    assert sorted(live.tables.names()) == sorted([*live.tables.names(3), checking])
    assert live.tables.names(3) != []
    assert world.search("alpha3w4 alpha3w5", "text") != []


def test_a_rebuild_settles_the_parked_events_under_the_views_name(world: World, url: str) -> None:
    """Parked again by the rebuild (the blob is still gone): counted once, as the view's."""
    broken = world.ingest("https://example.org/alpha", article(seed="alpha"))
    held = world.trawl.store.load(Url, broken).vectors_for(MODEL)
    assert held is not None
    world.blobs.delete(held.vectors_key)
    world.project_all()
    parked = "SELECT view, count(*) AS n FROM trawl_parked_events GROUP BY view ORDER BY view"
    assert [(r["view"], r["n"]) for r in query(url, parked)] == [("search", 1)]

    rebuild_search(world.trawl.search_projector)

    assert [(r["view"], r["n"]) for r in query(url, parked)] == [("search", 1)]
