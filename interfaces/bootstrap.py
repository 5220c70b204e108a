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
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.postgres import PostgresFactory
from eventsourcing.utils import Environment

from application.access import AccessPolicy, AccessView
from application.auth.commands import AuthService
from application.auth.tokens import TokenSigner
from application.ports import BlobStore, Mailer, PasswordHasher, PositionWaiter
from application.projections.access import AccessProjection
from application.projections.base import Projection
from application.projections.projects import ProjectsProjection
from application.projections.urls import UrlsProjection
from application.projects.commands import ProjectCommands
from application.projects.queries import ProjectQueries, ProjectsView
from application.shares.commands import ShareCommands
from application.shares.queries import LinkResolver, ShareQueries, SharesView
from application.store import TrawlStore
from application.urls.commands import UrlCommands
from application.urls.pipeline import Pipeline
from application.urls.queries import UrlQueries, UrlsView
from application.urls.worker import Worker
from application.users.commands import UserCommands
from application.users.queries import UserQueries
from application.vectorization.commands import Revectorizer
from application.vectorization.ports import Embedders, SearchIndex
from application.vectorization.search import SearchQueries
from application.vectorization.vectorize import Vectorizer
from infrastructure.auth.passwords import Argon2PasswordHasher
from infrastructure.blobs.local import LocalBlobStore
from infrastructure.embedding.registry import EmbedderRegistry
from infrastructure.extraction.trafilatura import TrafilaturaExtractor
from infrastructure.fetching.safe import SafeFetcher
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
from infrastructure.postgres import (
    access_view,
    projects_view,
    search_state,
    side_tables,
    urls_view,
)
from infrastructure.postgres import vault as vault_module
from infrastructure.postgres.database import library_env
from infrastructure.postgres.positions import PositionWatcher
from infrastructure.postgres.projector import Projector
from infrastructure.postgres.queue import PostgresJobQueue
from infrastructure.postgres.recorder import TrawlRecorder
from infrastructure.postgres.scheduler import scheduler_projector
from infrastructure.postgres.vault import PostgresKeyVault
from infrastructure.postgres.vector_cache import PostgresVectorCache
from infrastructure.settings import Settings

log = logging.getLogger(__name__)


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
    positions: PositionWaiter
    jwt_secret: str
    views: tuple[str, ...]
    search: SearchQueries
    # Every view's projector (Projector), the LanceDB search projection
    # (SearchProjector, view `search`) included. `Any`: Litestar inspects this
    # class and refuses unions of two classes.
    projectors: list[Any] = field(default_factory=list)
    search_projector: SearchProjector | None = None  # also in `projectors`
    # Queues a project's re-vectorization (on a model change; Postgres only).
    revectorize: Revectorizer | None = None
    # Ingestion (Postgres only): each worker thread runs fetch/extract/chunk jobs.
    make_worker: Callable[[str], Worker] | None = None
    ping: Callable[[], bool] = lambda: True
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _closers: list[Callable[[], Any]] = field(default_factory=list)

    def start_projectors(self) -> None:
        """Follow the log in background threads (one per view)."""
        for projector in self.projectors:
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
        prefix = f"{socket.gethostname()}:{os.getpid()}"
        for number in range(count):
            worker = self.make_worker(f"{prefix}:{number}")
            thread = threading.Thread(
                target=worker.run, args=(self._stop,), name=f"worker-{number}", daemon=True
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
        projects=ProjectCommands(store, policy),
        project_queries=ProjectQueries(projects, policy),
        shares=ShareCommands(store, policy, mailer, settings.base_url),
        share_queries=ShareQueries(store, shares_view, policy),
        links=LinkResolver(store, lambda: datetime.now(UTC)),
        urls=UrlCommands(store, policy),
        url_queries=UrlQueries(urls, policy),
        positions=positions,
        jwt_secret=secret,
        views=(*(p.name for p in projections), *extra_views),
        # The project's embedding model: TRAWL_EMBEDDER until project settings hold one.
        search=SearchQueries(index, embedders, policy, lambda _: settings.embedder),
    )


def bootstrap(
    settings: Settings,
    database_url: str,
    *,
    mailer: Mailer | None = None,
    hasher: PasswordHasher | None = None,
    run_projectors: bool | None = None,
) -> Trawl:
    """Trawl on Postgres: tables are created (idempotently) on start."""
    env = library_env(database_url, settings.db_pool_size, settings.db_max_overflow)
    factory = PostgresFactory(Environment(TrawlStore.name, env))
    datastore = factory.datastore
    vault = PostgresKeyVault(datastore)
    vault.create_tables()

    def recorder_factory(_: InfrastructureFactory[Any]) -> TrawlRecorder:
        recorder = TrawlRecorder(datastore, group_commit=settings.group_commit)
        recorder.create_table()
        return recorder

    store = TrawlStore(env, vault, recorder_factory, factory=factory)

    projections: list[Projection] = [ProjectsProjection(), AccessProjection(), UrlsProjection()]
    schemas = [projects_view.SCHEMA, access_view.SCHEMA, urls_view.SCHEMA]
    projectors = [
        Projector(store, datastore, projection, schema)
        for projection, schema in zip(projections, schemas, strict=True)
    ]
    queue = PostgresJobQueue(datastore)
    queue.create_tables()  # before the scheduler, which enqueues into it
    projectors.append(scheduler_projector(store, datastore))
    for projector in projectors:
        projector.setup()
    watcher = PositionWatcher(datastore)
    watcher.on(vault_module.CHANNEL, vault.evict, on_connect=vault.clear_cache)
    watcher.start()
    cache = PostgresVectorCache(datastore)
    cache.create_tables()
    blobs = _blobs(settings)
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
    search_projector = SearchProjector(
        store, datastore, tables, blobs, maintain_seconds=settings.search_maintenance_seconds
    )
    search_projector.setup()  # before the urls view reads trawl_search_urls
    index = LanceSearchIndex(
        tables,
        lambda: search_state.live_generation(datastore),
        lambda project_id: search_state.model_counts(datastore, project_id),
    )
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
        index,
        embedders,
        (search_state.VIEW,),
    )
    trawl.projectors = [*projectors, search_projector]
    trawl.search_projector = search_projector
    trawl.revectorize = Revectorizer(trawl.url_queries.view, queue)
    pipeline = Pipeline(store, _fetcher(settings), TrafilaturaExtractor(), blobs)
    vectorizer = Vectorizer(store, blobs, embedders, cache)
    trawl.make_worker = lambda owner: Worker(
        queue,
        pipeline,
        owner,
        per_host_limit=settings.per_host_concurrency,
        vectorizer=vectorizer,
        model_for=lambda _: settings.embedder,
    )
    trawl.ping = lambda: _ping(datastore)
    trawl._closers.append(watcher.stop)
    trawl.every(600, lambda: side_tables.purge_expired(datastore), "purge-idempotency")
    if settings.projector if run_projectors is None else run_projectors:
        trawl.start_projectors()
    return trawl


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
        index or MemorySearchIndex(),
        StaticEmbedders(HashingEmbedder(settings.embedder)),
    )


def _fetcher(settings: Settings) -> SafeFetcher:
    return SafeFetcher(
        allow_private=settings.fetch_allow_private_networks,
        max_bytes=settings.fetch_max_bytes,
        total_timeout=settings.fetch_timeout_seconds,
    )


def _blobs(settings: Settings) -> BlobStore:
    if settings.s3_bucket:
        from infrastructure.aws.s3 import S3BlobStore

        return S3BlobStore(
            settings.s3_bucket, settings.s3_prefix, endpoint_url=settings.s3_endpoint_url
        )
    return LocalBlobStore(settings.blob_path)


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
