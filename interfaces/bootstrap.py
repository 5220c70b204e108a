"""Composition root: settings -> adapters -> application. Nothing else wires.

`bootstrap()` builds Trawl on Postgres; `bootstrap_memory()` on the
in-memory store (unit tests). Every adapter is a parameter, so tests swap in
fakes without patching.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.postgres import PostgresDatastore, PostgresFactory
from eventsourcing.utils import Environment

from application.access import AccessPolicy, AccessView
from application.audit.ports import DeletionCheck, RebuildCheck
from application.audit.queries import AuditQueries
from application.auth.commands import AuthService
from application.auth.tokens import TokenSigner
from application.ports import (
    Backlog,
    BlobStore,
    Extractor,
    Mailer,
    PasswordHasher,
    PositionWaiter,
)
from application.projections.access import AccessProjection
from application.projections.base import Projection
from application.projections.blobs import BlobsProjection
from application.projections.projects import ProjectsProjection
from application.projections.urls import UrlsProjection
from application.projects.commands import ProjectCommands
from application.projects.queries import ProjectQueries, ProjectsView
from application.shares.commands import ShareCommands
from application.shares.queries import LinkResolver, ShareQueries, SharesView
from application.store import TrawlStore
from application.urls.commands import UrlCommands
from application.urls.details import UrlDetails
from application.urls.doorbell import Doorbell
from application.urls.pipeline import EXTRACT, Pipeline
from application.urls.queries import UrlQueries, UrlsView
from application.urls.retention import BlobReferences, sweep
from application.urls.worker import Worker
from application.users.commands import UserCommands
from application.users.queries import UserQueries
from application.vectorization.ports import Embedders, SearchIndex
from application.vectorization.search import SearchQueries
from application.vectorization.vectorize import Vectorizer
from infrastructure.auth.passwords import Argon2PasswordHasher
from infrastructure.blobs.local import LocalBlobStore
from infrastructure.embedding.registry import EmbedderRegistry
from infrastructure.extraction.pool import PooledExtractor
from infrastructure.extraction.trafilatura import TrafilaturaExtractor
from infrastructure.fetching.robots import RobotsCache
from infrastructure.fetching.safe import SafeFetcher
from infrastructure.lancedb.checks import SearchDeletionCheck, SearchRebuildCheck
from infrastructure.lancedb.projector import SearchProjector
from infrastructure.lancedb.search import LanceSearchIndex
from infrastructure.lancedb.tables import LanceTables
from infrastructure.memory.recorder import MemoryRecorder
from infrastructure.memory.search import HashingEmbedder, MemorySearchIndex, StaticEmbedders
from infrastructure.memory.vault import MemoryKeyVault
from infrastructure.memory.views import (
    MemoryAccessView,
    MemoryProjectsView,
    MemoryUrlsView,
    MemoryViews,
)
from infrastructure.nats.relay import Relay, relay_for
from infrastructure.nats.status import RelayStatus, relay_status
from infrastructure.nats.stream import StreamSpec
from infrastructure.postgres import (
    access_view,
    blobs_view,
    projects_view,
    search_state,
    search_switch,
    side_tables,
    urls_view,
)
from infrastructure.postgres import queue as queue_module
from infrastructure.postgres import vault as vault_module
from infrastructure.postgres import views as view_tables
from infrastructure.postgres.blobs_view import BlobDeletionCheck
from infrastructure.postgres.database import library_env
from infrastructure.postgres.deletion_check import JobQueueDeletionCheck, ViewDeletionCheck
from infrastructure.postgres.positions import PositionWatcher
from infrastructure.postgres.projector import Projector, ProjectorGroup
from infrastructure.postgres.queue import PostgresJobQueue
from infrastructure.postgres.rebuild import rebuild_all
from infrastructure.postgres.rebuild_check import ViewRebuildCheck
from infrastructure.postgres.recorder import TrawlRecorder
from infrastructure.postgres.scheduler import scheduler_projector
from infrastructure.postgres.vault import PostgresKeyVault
from infrastructure.postgres.vector_cache import PostgresVectorCache
from infrastructure.settings import Settings

log = logging.getLogger(__name__)

WATCHDOG_SECONDS = 30.0
SWEEP_SECONDS = 3600.0


@dataclass
class Trawl:
    """The wired application: use cases, queries and background work."""

    settings: Settings
    store: TrawlStore
    users: UserCommands
    user_queries: UserQueries
    auth: AuthService
    projects: ProjectCommands
    project_queries: ProjectQueries
    shares: ShareCommands
    share_queries: ShareQueries
    links: LinkResolver
    urls: UrlCommands
    url_queries: UrlQueries
    url_details: UrlDetails
    positions: PositionWaiter
    jwt_secret: str
    views: tuple[str, ...]
    audit: AuditQueries
    search: SearchQueries
    # Pluggable audit checks: each component (views, search, blobs) registers its own.
    rebuild_checks: list[RebuildCheck] = field(default_factory=list)
    deletion_checks: list[DeletionCheck] = field(default_factory=list)
    # Every view's projector (Projector), the LanceDB search projection
    # (SearchProjector, view `search`) included. `Any`: Litestar inspects this
    # class and refuses unions of two classes.
    projectors: list[Any] = field(default_factory=list)
    search_projector: SearchProjector | None = None  # also in `projectors`
    # What the projector threads follow, one thread each: a projector, or a
    # group of views applied in one transaction per batch (default: each view).
    followers: list[Any] = field(default_factory=list)
    # Ingestion (Postgres only): each worker thread runs fetch/extract/chunk jobs.
    make_worker: Callable[[str], Worker] | None = None
    job_backlog: Callable[[], list[Backlog]] = lambda: []  # the queue, kind by kind
    warm_up: Callable[[], None] = lambda: None  # start extraction processes early
    # Blob retention (Postgres only): delete blobs nothing live references.
    sweep_blobs: Callable[[], int] = lambda: 0
    blob_references: BlobReferences | None = None
    ping: Callable[[], bool] = lambda: True
    # The event stream: the relay (when this process may run one) and its progress.
    relay: Relay | None = None
    relay_status: Callable[[], RelayStatus | None] = lambda: None
    parked: Callable[[], dict[str, int]] = dict  # events each view set aside
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _closers: list[Callable[[], Any]] = field(default_factory=list)

    def start_projectors(self) -> None:
        """Follow the log in background threads (one per follower)."""
        for projector in self.followers or self.projectors:
            thread = threading.Thread(
                target=projector.follow,
                args=(self._stop,),
                name=f"projector-{projector.view}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def start_workers(self, count: int) -> None:
        """Run `count` ingestion workers in background threads until close()."""
        if self.make_worker is None:
            raise RuntimeError("this Trawl has no job queue (in-memory store)")
        if count:
            self.warm_up()
        prefix = f"{socket.gethostname()}:{os.getpid()}"
        for number in range(count):
            worker = self.make_worker(f"{prefix}:{number}")
            thread = threading.Thread(
                target=worker.run, args=(self._stop,), name=f"worker-{number}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def start_relay(self) -> None:
        """Publish the log to NATS in a background thread (a hot standby if another relay runs)."""
        if self.relay is None:
            raise RuntimeError("this Trawl has no relay (no NATS URL, or TRAWL_NATS_URL=off)")
        thread = threading.Thread(
            target=self.relay.run, args=(self._stop,), name="relay", daemon=True
        )
        thread.start()
        self._threads.append(thread)

    def every(self, seconds: float, job: Callable[[], Any], name: str) -> None:
        """Run `job` every `seconds` in a background thread until close()."""

        def loop() -> None:
            while not self._stop.wait(seconds):
                try:
                    job()
                except Exception:
                    log.exception("background job %s failed", name)

        thread = threading.Thread(target=loop, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        for closer in reversed(self._closers):
            closer()
        self.store.close()


def default_mailer(settings: Settings) -> Mailer:
    if settings.smtp_url:
        from infrastructure.mail.smtp import SmtpMailer

        return SmtpMailer(settings.smtp_url, sender=settings.mail_from)
    from infrastructure.mail.file import FileMailer

    return FileMailer(settings.data_path / "mail")


def _wire(
    settings: Settings,
    store: TrawlStore,
    projects: ProjectsView,
    access_view: AccessView,
    shares_view: SharesView,
    urls: UrlsView,
    positions: PositionWaiter,
    mailer: Mailer,
    hasher: PasswordHasher,
    projections: list[Projection],
    blobs: BlobStore,
    index: SearchIndex,
    embedders: Embedders,
    extra_views: tuple[str, ...] = (),
) -> Trawl:
    secret = settings.resolved_jwt_secret()
    policy = AccessPolicy(access_view)
    return Trawl(
        settings=settings,
        store=store,
        users=UserCommands(store, hasher, mailer, TokenSigner(secret), settings.base_url),
        user_queries=UserQueries(store),
        auth=AuthService(store, hasher),
        projects=ProjectCommands(
            store, policy, default_model=settings.embedder, usable_model=embedders.usable
        ),
        project_queries=ProjectQueries(projects, policy, urls.counts),
        shares=ShareCommands(store, policy, mailer, settings.base_url),
        share_queries=ShareQueries(store, shares_view, policy),
        links=LinkResolver(store, lambda: datetime.now(UTC)),
        urls=UrlCommands(store, policy),
        url_queries=UrlQueries(urls, policy),
        url_details=UrlDetails(store, blobs, policy),
        positions=positions,
        jwt_secret=secret,
        views=(*(p.name for p in projections), *extra_views),
        audit=AuditQueries(store),
        search=SearchQueries(index, embedders, policy, _project_model(projects, settings)),
    )


def _project_model(projects: ProjectsView, settings: Settings) -> Callable[[UUID], str]:
    """The embedding model a project's searches ask for (its setting)."""

    def model_for(project_id: UUID) -> str:
        project = projects.get(project_id)
        return project.embedding_model if project else settings.embedder

    return model_for


def _parked(datastore: PostgresDatastore) -> dict[str, int]:
    with datastore.transaction(commit=False) as curs:
        return view_tables.parked_counts(curs)


def _followers(projectors: list[Projector], search: SearchProjector) -> list[Any]:
    """The views applied at once in one group (one transaction per batch for
    all); a view that lingers on purpose (the scheduler's `lag`) and the
    search index (LanceDB commits) follow on their own."""
    lingering = [p for p in projectors if p.lag]
    return [ProjectorGroup([p for p in projectors if not p.lag]), *lingering, search]


def bootstrap(
    settings: Settings,
    database_url: str,
    *,
    mailer: Mailer | None = None,
    hasher: PasswordHasher | None = None,
    run_projectors: bool | None = None,
    nats_url: str | None = None,
) -> Trawl:
    """Trawl on Postgres: tables are created (idempotently) on start.

    With a `nats_url` (and the relay not switched off) the Trawl carries a
    relay; `start_relay()` runs it.
    """
    env = library_env(database_url, settings.db_pool_size, settings.db_max_overflow)
    env["IS_SNAPSHOTTING_ENABLED"] = "y"  # TrawlStore.snapshotting_intervals
    factory = PostgresFactory(Environment(TrawlStore.name, env))
    datastore = factory.datastore
    vault = PostgresKeyVault(datastore)
    vault.create_tables()

    def recorder_factory(_: InfrastructureFactory[Any]) -> TrawlRecorder:
        recorder = TrawlRecorder(datastore, group_commit=settings.group_commit)
        recorder.create_table()
        return recorder

    store = TrawlStore(env, vault, recorder_factory, factory=factory)

    projections: list[Projection] = [
        ProjectsProjection(),
        AccessProjection(),
        UrlsProjection(),
        BlobsProjection(),
    ]
    schemas = [projects_view.SCHEMA, access_view.SCHEMA, urls_view.SCHEMA, blobs_view.SCHEMA]
    projectors = [
        # Rows and position commit together, so a batch lost in a crash is
        # simply applied again: no batch needs to wait for the WAL flush.
        Projector(store, datastore, projection, schema, durable=False)
        for projection, schema in zip(projections, schemas, strict=True)
    ]
    queue = PostgresJobQueue(datastore)
    queue.create_tables()  # before the scheduler, which enqueues into it
    projectors.append(scheduler_projector(store, datastore))
    # A view whose code has other tables than the stored one is replayed into
    # fresh tables and swapped in before serving from it (all such views in one
    # pass over the log).
    changed = [projector for projector in projectors if projector.setup()]
    if changed:
        names = ", ".join(projector.view for projector in changed)
        log.warning("views %s changed shape: rebuilding them from the log", names)
        rebuild_all(changed)
    watcher = PositionWatcher(datastore)
    watcher.on(vault_module.CHANNEL, vault.evict, on_connect=vault.clear_cache)
    doorbell = Doorbell()
    watcher.on(queue_module.CHANNEL, doorbell.ring, on_connect=doorbell.ring)
    watcher.start()
    blobs = _blobs(settings)
    search = _search(settings, store, datastore, blobs)
    access = access_view.PostgresAccessView(datastore)
    trawl = _wire(
        settings,
        store,
        projects_view.PostgresProjectsView(datastore),
        access,
        access,
        urls_view.PostgresUrlsView(datastore),
        watcher,
        mailer or default_mailer(settings),
        hasher or Argon2PasswordHasher(),
        projections,
        blobs,
        search.index,
        search.embedders,
        (search_state.VIEW,),
    )
    trawl.projectors = [*projectors, search.projector]
    trawl.followers = _followers(projectors, search.projector)
    trawl.search_projector = search.projector
    trawl.job_backlog = queue.backlog
    vectorizer = Vectorizer(store, blobs, search.embedders, search.cache)
    _wire_ingestion(trawl, datastore, queue, blobs, doorbell, vectorizer)
    _register_checks(trawl, datastore, projectors)
    trawl.rebuild_checks.append(SearchRebuildCheck(search.projector))
    trawl.deletion_checks.append(SearchDeletionCheck(search.projector))
    trawl.ping = lambda: _ping(datastore)
    events_table = store.recorder.events_table_name  # type: ignore[attr-defined]
    trawl.relay_status = lambda: relay_status(datastore, store.mapper, events_table)
    trawl.parked = lambda: _parked(datastore)
    if nats_url and settings.relay_enabled:
        trawl.relay = relay_for(store, database_url, nats_url, stream_spec(settings))
    trawl._closers.append(watcher.stop)
    trawl.every(600, lambda: side_tables.purge_expired(datastore), "purge-idempotency")
    if settings.projector if run_projectors is None else run_projectors:
        _follow(trawl, settings, search.projector)
    return trawl


def _follow(trawl: Trawl, settings: Settings, search: SearchProjector) -> None:
    """The projectors and the upkeep that goes with them: blob retention, and
    the search index's training (beside its projector, not in its thread:
    see SearchProjector.follow)."""
    trawl.start_projectors()
    trawl.every(SWEEP_SECONDS, trawl.sweep_blobs, "blob-retention")
    trawl.every(settings.search_maintenance_seconds, search.train, "search-training")


@dataclass(frozen=True)
class _Search:
    projector: SearchProjector
    index: LanceSearchIndex
    embedders: EmbedderRegistry
    cache: PostgresVectorCache


def _search(
    settings: Settings, store: TrawlStore, datastore: PostgresDatastore, blobs: BlobStore
) -> _Search:
    """The vector cache, the embedders, and the LanceDB index and its projector."""
    cache = PostgresVectorCache(datastore)
    cache.create_tables()
    embedders = EmbedderRegistry(
        region=settings.bedrock_region,
        endpoint_url=settings.bedrock_endpoint_url,
        concurrency=settings.bedrock_concurrency,
        requests_per_minute=settings.bedrock_requests_per_minute,
    )
    tables = LanceTables(
        settings.lancedb_location,
        _storage_options(settings),
        ann_threshold=settings.search_ann_threshold,
    )
    projector = SearchProjector(
        store, datastore, tables, blobs, optimize_seconds=settings.search_maintenance_seconds
    )
    projector.setup()  # before the urls view reads trawl_search_urls
    index = LanceSearchIndex(
        tables,
        lambda: search_state.live_generation(datastore),
        lambda project_id: search_switch.answering(datastore, project_id),
    )
    return _Search(projector, index, embedders, cache)


def _warm_up(
    extractor: Extractor, vectorizer: Vectorizer, model_id: str, kinds: tuple[str, ...]
) -> None:
    """Start the extraction processes (when the workers run extract jobs) and
    load the default embedding model in the background, so the first pages
    wait for neither. The model is loaded whatever the kinds: in `trawl
    serve` the search's query embeddings share it."""
    if isinstance(extractor, PooledExtractor) and EXTRACT in kinds:
        extractor.warm()

    def load() -> None:
        try:
            vectorizer.embedders.get(model_id)
        except Exception:  # the first vectorize job reports it
            log.exception("loading the embedding model %s failed", model_id)

    threading.Thread(target=load, name="warm-embedder", daemon=True).start()


def _wire_ingestion(
    trawl: Trawl,
    datastore: PostgresDatastore,
    queue: PostgresJobQueue,
    blobs: BlobStore,
    doorbell: Doorbell,
    vectorizer: Vectorizer,
) -> None:
    """Workers (fetch, extract, chunk, vectorize), their watchdog, and blob retention."""
    settings = trawl.settings
    fetcher = _fetcher(settings)
    extractor = _extractor(settings)
    pipeline = Pipeline(
        trawl.store,
        fetcher,
        extractor,
        blobs,
        max_attempts=settings.fetch_max_attempts,
        robots=RobotsCache(fetcher) if settings.fetch_respect_robots else None,
    )
    trawl.make_worker = lambda owner: Worker(
        queue,
        pipeline,
        owner,
        kinds=settings.worker_kinds,
        max_attempts=settings.fetch_max_attempts,
        per_host_limit=settings.per_host_concurrency,
        wake=doorbell.new_bell(),
        vectorizer=vectorizer,
        vectorize_linger=settings.vectorize_linger_seconds or None,
    )
    if isinstance(extractor, PooledExtractor):
        trawl._closers.append(extractor.close)
    trawl.warm_up = lambda: _warm_up(
        extractor, vectorizer, settings.embedder, settings.worker_kinds
    )
    trawl.every(WATCHDOG_SECONDS, lambda: _watchdog(queue), "watchdog")
    references = blobs_view.PostgresBlobReferences(datastore)
    retention = timedelta(seconds=settings.blob_retention_seconds)
    trawl.sweep_blobs = lambda: sweep(
        references, blobs, retention, forget_cached=vectorizer.cache.forget
    )
    trawl.blob_references = references


def _register_checks(
    trawl: Trawl, datastore: PostgresDatastore, projectors: list[Projector]
) -> None:
    """The audit's checks of what Postgres derives; search adds its own."""
    retention = timedelta(seconds=trawl.settings.blob_retention_seconds)
    trawl.rebuild_checks.extend(ViewRebuildCheck(p) for p in projectors)
    # The blobs view keeps a deleted project's references for the retention
    # period on purpose: its own check says until when.
    kept = [p.schema for p in projectors if p.schema is not blobs_view.SCHEMA]
    trawl.deletion_checks.append(ViewDeletionCheck(datastore, kept))
    trawl.deletion_checks.append(BlobDeletionCheck(datastore, retention))
    trawl.deletion_checks.append(JobQueueDeletionCheck(datastore))


def bootstrap_memory(
    settings: Settings,
    *,
    mailer: Mailer,
    hasher: PasswordHasher | None = None,
    index: SearchIndex | None = None,
) -> Trawl:
    """Trawl on the in-memory store, views applied synchronously (unit tests)."""
    store = TrawlStore({}, MemoryKeyVault(), lambda _: MemoryRecorder())
    projections: list[Projection] = [ProjectsProjection(), AccessProjection(), UrlsProjection()]
    views = MemoryViews(store, projections)
    access = MemoryAccessView(views)
    return _wire(
        settings,
        store,
        MemoryProjectsView(views),
        access,
        access,
        MemoryUrlsView(views),
        views,
        mailer,
        hasher or Argon2PasswordHasher(time_cost=1, memory_cost=1024),
        projections,
        LocalBlobStore(settings.blob_path),
        index or MemorySearchIndex(),
        StaticEmbedders(HashingEmbedder(settings.embedder)),
    )


def stream_spec(settings: Settings) -> StreamSpec:
    """The event stream the settings describe."""
    return StreamSpec(
        name=settings.nats_stream,
        prefix=settings.nats_subject_prefix,
        duplicate_window=settings.nats_duplicate_window_seconds,
        max_age=settings.nats_max_age_seconds,
        max_bytes=settings.nats_max_bytes or -1,
    )


def _fetcher(settings: Settings) -> SafeFetcher:
    return SafeFetcher(
        allow_private=settings.fetch_allow_private_networks,
        max_bytes=settings.fetch_max_bytes,
        total_timeout=settings.fetch_timeout_seconds,
    )


def _extractor(settings: Settings) -> Extractor:
    if settings.extract_processes == 0:
        return TrafilaturaExtractor()  # in the worker threads
    processes = settings.extract_processes
    if processes < 0:
        processes = min(os.cpu_count() or 1, 4)
    return PooledExtractor(processes)


def _blobs(settings: Settings) -> BlobStore:
    if settings.s3_bucket:
        from infrastructure.aws.s3 import S3BlobStore

        return S3BlobStore(
            settings.s3_bucket, settings.s3_prefix, endpoint_url=settings.s3_endpoint_url
        )
    return LocalBlobStore(settings.blob_path)


def _watchdog(queue: PostgresJobQueue) -> None:
    """Free the jobs of dead workers at once (claims would take them over anyway)."""
    freed = queue.release_expired()
    if freed:
        log.warning("watchdog: %d job leases had expired; their jobs are queued again", freed)


def _storage_options(settings: Settings) -> dict[str, str] | None:
    if not settings.lancedb_storage_options:
        return None
    options = json.loads(settings.lancedb_storage_options)
    return {str(k): str(v) for k, v in options.items()}


def _ping(datastore: Any) -> bool:
    try:
        with datastore.get_connection() as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - readiness answers, it does not raise
        return False
