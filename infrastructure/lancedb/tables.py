"""LanceDB tables of the search index: one per embedding model and generation.

A table is named `chunks_<model slug>_g<generation>`; a rebuild fills the
next generation beside the live one and the swap only changes which
generation Postgres calls live. Rows are keyed by chunk id (first in the
schema, the merge key). Filters are built from UUIDs only, never from user
text, so they cannot be injected into.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import Any
from uuid import UUID

import lancedb  # type: ignore[import-untyped]
import pyarrow as pa  # type: ignore[import-untyped]
from lancedb.index import FTS, BTree, IvfHnswSq  # type: ignore[import-untyped]

from domain.vectorization.models import parse_model_id

log = logging.getLogger(__name__)


def lance_cpu_threads(cores: int) -> int | None:
    """The compute threads Lance should get on a machine of `cores` cores;
    None: its own default suits. Lance keeps two cores for I/O and gives its
    compute pool the rest, but ONE thread when that leaves none: there a
    hybrid search's two halves queue for that thread. On 2 cores, two
    threads won 10 of 12 alternating runs of the hybrid p50 at 1M rows
    (median 29.8 against 31.3 ms, docs/benchmarks.md)."""
    return min(cores, 2) if cores - 2 < 2 and cores > 1 else None


def _cores(quota_file: str = "/sys/fs/cgroup/cpu.max") -> int:
    """The cores this process may use, as Lance counts them: the CPUs it may
    run on, capped by a cgroup (v2) quota, e.g. a container's `--cpus 2`."""
    affinity = getattr(os, "sched_getaffinity", None)
    cores = len(affinity(0)) if affinity else os.cpu_count() or 1
    try:
        with open(quota_file) as quota:
            limit, period = quota.read().split()[:2]
    except (OSError, ValueError):
        return cores
    if limit == "max":
        return cores
    return max(1, min(cores, -(-int(limit) // int(period))))  # rounded up


# Read once, at Lance's first query: set before any, unless the operator chose.
if (_threads := lance_cpu_threads(_cores())) is not None:
    os.environ.setdefault("LANCE_CPU_THREADS", str(_threads))

PREFIX = "chunks_"
# Rows per IVF partition of the ANN index. Searches are prefiltered by
# project, and a filtered HNSW walk costs more the bigger its graph: LanceDB's
# default for IVF-HNSW is ONE partition (one graph over the whole table), which
# measured ~2x slower to build and ~1.5x slower to query at 200k rows than
# graphs of a few thousand rows, for the same recall (docs/benchmarks.md).
PARTITION_ROWS = 4096
RETRAIN_GROWTH = 4  # rebuild the ANN index once the table has grown this many times
ANN_PREFIX = "vector_idx_"  # + the rows it was trained on
DATA_STORAGE_VERSION = "2.1"  # Lance file format of new tables (see LanceTables)


def ann_config(rows: int) -> IvfHnswSq:
    """The ANN index of a table of `rows` rows: IVF-HNSW-SQ, cosine."""
    return IvfHnswSq(distance_type="cosine", num_partitions=max(1, rows // PARTITION_ROWS))


def table_name(model_id: str, generation: int) -> str:
    return f"{PREFIX}{parse_model_id(model_id).slug}_g{generation}"


def generation_of(name: str) -> int:
    """The generation a table name ends with (`table_name`)."""
    return int(name.rsplit("_g", 1)[1])


def schema(dimensions: int) -> pa.Schema:
    return pa.schema(
        [
            pa.field("chunk_id", pa.string(), nullable=False),
            pa.field("project_id", pa.string(), nullable=False),
            pa.field("url_id", pa.string(), nullable=False),
            pa.field("url", pa.string(), nullable=False),
            pa.field("title", pa.string()),
            pa.field("ordinal", pa.int32(), nullable=False),
            pa.field("start", pa.int32(), nullable=False),
            pa.field("end", pa.int32(), nullable=False),
            pa.field("version", pa.int32(), nullable=False),
            pa.field("text", pa.string(), nullable=False),
            pa.field("vector", pa.list_(pa.float32(), dimensions), nullable=False),
        ]
    )


def url_filter(url_id: UUID) -> str:
    return f"url_id = '{UUID(str(url_id))}'"


def project_filter(project_id: UUID) -> str:
    return f"project_id = '{UUID(str(project_id))}'"


class LanceTables:
    """Opens, creates, writes and maintains the index tables (thread-safe opening)."""

    def __init__(
        self,
        uri: str,
        storage_options: dict[str, str] | None = None,
        *,
        ann_threshold: int = 20_000,
    ) -> None:
        self.uri = uri
        self.ann_threshold = ann_threshold
        # New tables in Lance's 2.1 file format: under its default (2.2) reading
        # a few scattered rows (a search's hits) costs about twice the CPU, and
        # hybrid search at 1M rows was ~20% slower (docs/benchmarks.md). Older
        # tables keep their format until `trawl rebuild --view search`.
        options = {
            "new_table_data_storage_version": DATA_STORAGE_VERSION,
            **(storage_options or {}),
        }
        # Every read checks for new versions: the writer is another thread or process.
        self.db = lancedb.connect(
            uri, storage_options=options, read_consistency_interval=timedelta(0)
        )
        self._open: dict[str, Any] = {}
        self._indexed: set[str] = set()  # tables whose scalar and FTS indexes exist
        self._lock = threading.Lock()
        self._index_lock = threading.Lock()
        self._busy_locks: dict[str, threading.Lock] = {}  # see _busy

    def names(self, generation: int | None = None) -> list[str]:
        names = [n for n in self.db.list_tables(limit=10_000).tables if n.startswith(PREFIX)]
        if generation is None:
            return names
        return [n for n in names if n.endswith(f"_g{generation}")]

    def get(self, name: str) -> Any | None:
        """The open table, or None when it does not exist."""
        with self._lock:
            if name not in self._open:
                try:
                    self._open[name] = self.db.open_table(name)
                except (FileNotFoundError, ValueError):
                    return None
            return self._open[name]

    def create(self, name: str, dimensions: int) -> Any:
        with self._lock:
            table = self.db.create_table(name, schema=schema(dimensions), exist_ok=True)
            self._open[name] = table
            return table

    def drop(self, name: str) -> None:
        with self._lock:
            self._open.pop(name, None)
            self._indexed.discard(name)
            self.db.drop_table(name, ignore_missing=True)  # type: ignore[call-arg]

    def upsert_url(self, name: str, dimensions: int, url_id: UUID, rows: pa.Table) -> None:
        """The URL's chunks become exactly `rows`: inserts, updates, deletions in one commit."""
        table = self.get(name) or self.create(name, dimensions)
        if rows.num_rows == 0:  # an empty text: nothing of the URL stays
            table.delete(url_filter(url_id))
            self.ensure_indexes(table)  # a table created here must answer text search
            return
        result = (
            table.merge_insert("chunk_id")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .when_not_matched_by_source_delete(url_filter(url_id))
            .execute(rows)
        )
        if result.num_inserted_rows + result.num_updated_rows != rows.num_rows:
            raise RuntimeError(f"merge of {url_id} wrote {result}, expected {rows.num_rows} rows")
        self.ensure_indexes(table)

    def upsert_urls(self, name: str, dimensions: int, urls: dict[UUID, pa.Table]) -> None:
        """Each URL's chunks become exactly its rows, all URLs in ONE commit."""
        if len(urls) == 1:
            [(url_id, rows)] = urls.items()
            self.upsert_url(name, dimensions, url_id, rows)
            return
        table = self.get(name) or self.create(name, dimensions)
        rows = pa.concat_tables(list(urls.values()))
        scope = " OR ".join(url_filter(url_id) for url_id in urls)
        if rows.num_rows == 0:
            table.delete(scope)
            self.ensure_indexes(table)
            return
        result = (
            table.merge_insert("chunk_id")
            .when_matched_update_all()
            .when_not_matched_insert_all()
            .when_not_matched_by_source_delete(scope)
            .execute(rows)
        )
        if result.num_inserted_rows + result.num_updated_rows != rows.num_rows:
            raise RuntimeError(f"merge of {len(urls)} URLs wrote {result}, not {rows.num_rows}")
        self.ensure_indexes(table)

    def delete(self, names: Sequence[str], where: str) -> None:
        for name in names:
            table = self.get(name)
            if table is not None:
                table.delete(where)

    def ensure_indexes(self, table: Any) -> None:
        """BTree on the filter columns and FTS on text (needed by hybrid); once
        each (the projector and the upkeep thread may both get here first)."""
        if table.name in self._indexed:  # listing indexes costs more than a small merge
            return
        with self._index_lock:
            if table.name in self._indexed:
                return
            have = {tuple(index.columns) for index in table.list_indices()}
            for column, config in (("project_id", BTree()), ("url_id", BTree()), ("text", FTS())):
                if (column,) not in have:
                    table.create_index(column, config=config)
            self._indexed.add(table.name)

    def maintain(self, name: str, retention: timedelta = timedelta(hours=1)) -> None:
        """All the upkeep at once (a rebuild's fresh generation): `train`, then `optimize`."""
        self.train(name)
        self.optimize(name, retention)

    def train(self, name: str) -> None:
        """The indexes a table needs: BTree and FTS, and an ANN index past the
        threshold (trained again once the table has grown RETRAIN_GROWTH times,
        so its partitions keep their size). An ANN build takes minutes at 1M
        rows; it commits beside concurrent merges, but a compaction meanwhile
        would void it, so `optimize` skips the table until it is done (and the
        build waits for an optimize under way)."""
        table = self.get(name)
        if table is None:
            return
        self.ensure_indexes(table)
        rows = table.count_rows()
        trained = _trained_rows(table)
        if rows >= self.ann_threshold and (trained is None or rows >= RETRAIN_GROWTH * trained):
            log.info("building the ANN index of %s (%s rows)", name, rows)
            with self._busy(name):  # waits for an optimize under way
                self.build_ann(table, rows)

    def optimize(self, name: str, retention: timedelta = timedelta(hours=1)) -> bool:
        """Compact, bring the indexes up to the new rows, drop versions older than
        `retention`; False when the table is missing or its ANN index is in
        training. Run it where the table's writes are made, between them:
        beside a stream of merges, Lance's compaction loses the commit race
        (one success in ~40 attempts, measured)."""
        table, busy = self.get(name), self._busy(name)
        if table is None or not busy.acquire(blocking=False):
            return False
        try:
            table.optimize(cleanup_older_than=retention)
        finally:
            busy.release()
        return True

    def _busy(self, name: str) -> threading.Lock:
        """Held by an ANN build or an optimize of the table: never both at once."""
        with self._lock:
            return self._busy_locks.setdefault(name, threading.Lock())

    def build_ann(self, table: Any, rows: int) -> None:
        """(Re)build the table's ANN index for its `rows` rows, replacing the old one."""
        old = [i.name for i in table.list_indices() if tuple(i.columns) == ("vector",)]
        table.create_index(
            "vector", config=ann_config(rows), name=f"{ANN_PREFIX}{rows}", replace=True
        )
        for stale in old:
            if stale != f"{ANN_PREFIX}{rows}":
                table.drop_index(stale)


def _trained_rows(table: Any) -> int | None:
    """The rows the table's ANN index was trained on; None: it has none.

    An index of an older Trawl (named without the rows) counts as trained on
    none, so the next upkeep sizes it."""
    for index in table.list_indices():
        if tuple(index.columns) == ("vector",):
            suffix = index.name.removeprefix(ANN_PREFIX)
            return int(suffix) if suffix.isdigit() else 0
    return None
