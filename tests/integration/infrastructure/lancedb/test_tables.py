"""LanceDB tables in a temp dir: one merge per URL, and the indexes the upkeep adds."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from infrastructure.lancedb import tables as lance
from tests.support import s3

pytestmark = pytest.mark.integration

MODEL = "wordllama/l2_supercat-256"
PROJECT = uuid.UUID(int=1)


def rows(url_id: uuid.UUID, count: int, seed: int = 0) -> pa.Table:
    vectors = np.random.default_rng(seed).normal(size=(count, 256)).astype(np.float32)
    return pa.table(
        {
            "chunk_id": [str(uuid.uuid5(url_id, str(i))) for i in range(count)],
            "project_id": [str(PROJECT)] * count,
            "url_id": [str(url_id)] * count,
            "url": ["https://example.org/"] * count,
            "title": [None] * count,
            "ordinal": list(range(count)),
            "start": [0] * count,
            "end": [5] * count,
            "version": [1] * count,
            "text": [f"chunk number {i}" for i in range(count)],
            "vector": pa.FixedSizeListArray.from_arrays(pa.array(vectors.reshape(-1)), 256),
        },
        schema=lance.schema(256),
    )


def test_a_merge_replaces_one_urls_chunks_and_leaves_the_others(tmp_path: Path) -> None:
    tables = lance.LanceTables(str(tmp_path))
    name = lance.table_name(MODEL, 1)
    first, second = uuid.UUID(int=10), uuid.UUID(int=11)
    tables.upsert_url(name, 256, first, rows(first, 8))
    tables.upsert_url(name, 256, second, rows(second, 5))

    tables.upsert_url(name, 256, first, rows(first, 3, seed=1))  # fewer chunks now

    table = tables.get(name)
    assert table.count_rows(lance.url_filter(first)) == 3
    assert table.count_rows(lance.url_filter(second)) == 5


@pytest.mark.parametrize("urls", [1, 2])
def test_a_table_first_made_by_urls_without_chunks_answers_text_search(
    tmp_path: Path, urls: int
) -> None:
    """The first URLs a model indexes may have empty texts: the table they
    create has its indexes, so text search answers (nothing) instead of failing."""
    tables = lance.LanceTables(str(tmp_path))
    name = lance.table_name(MODEL, 1)
    empty = {uuid.UUID(int=20 + n): rows(uuid.UUID(int=20 + n), 0) for n in range(urls)}
    tables.upsert_urls(name, 256, empty)

    table = tables.get(name)
    assert table.search("chunk", query_type="fts").limit(5).to_list() == []


def test_optimize_compacts_and_drops_versions_past_the_retention(tmp_path: Path) -> None:
    tables = lance.LanceTables(str(tmp_path))
    name = lance.table_name(MODEL, 1)
    for n in range(4):  # a commit (a version and a data fragment) each
        tables.upsert_url(name, 256, uuid.UUID(int=30 + n), rows(uuid.UUID(int=30 + n), 3))
    table = tables.get(name)
    before = {v["version"] for v in table.list_versions()}
    assert table.stats()["fragment_stats"]["num_fragments"] == 4

    with pytest.warns(UserWarning, match="removes every version except the latest"):
        assert tables.optimize(name, retention=timedelta(0))

    after = {v["version"] for v in table.list_versions()}
    assert min(after) > max(before)  # only the versions optimize itself wrote are left
    assert table.stats()["fragment_stats"]["num_fragments"] < 4  # compacted
    assert table.count_rows() == 12


def test_new_tables_are_written_in_the_2_1_file_format(tmp_path: Path) -> None:
    """Lance's default (2.2) reads a search's hits at about half the speed
    (docs/benchmarks.md); the format is named in the table's manifest."""
    tables = lance.LanceTables(str(tmp_path))
    name = lance.table_name(MODEL, 1)
    tables.upsert_urls(name, 256, {uuid.UUID(int=5): rows(uuid.UUID(int=5), 3)})
    manifests = sorted((tmp_path / f"{name}.lance" / "_versions").glob("*.manifest"))
    written = manifests[0].read_bytes()  # names sort newest first
    assert lance.DATA_STORAGE_VERSION == "2.1"
    assert b"2.1" in written and b"2.2" not in written


def test_upkeep_adds_the_ann_index_only_past_the_threshold(tmp_path: Path) -> None:
    tables = lance.LanceTables(str(tmp_path), ann_threshold=500)
    name = lance.table_name(MODEL, 1)
    for number in range(6):
        url_id = uuid.UUID(int=20 + number)
        tables.upsert_url(name, 256, url_id, rows(url_id, 100, seed=number))
        if number == 3:
            tables.maintain(name)  # 400 rows: exact search still
            kinds = {index.index_type for index in tables.get(name).list_indices()}
            assert kinds == {"BTree", "FTS"}

    tables.maintain(name)

    kinds = {index.index_type for index in tables.get(name).list_indices()}
    assert kinds == {"BTree", "FTS", "IvfHnswSq"}


def test_the_index_lives_on_s3_given_storage_options() -> None:
    with s3.s3_server() as server:
        bucket = server.create_bucket()
        options = {
            "aws_access_key_id": "testing",
            "aws_secret_access_key": "testing",
            "aws_endpoint": server.endpoint_url,
            "aws_region": s3.REGION,
            "allow_http": "true",
        }
        tables = lance.LanceTables(f"s3://{bucket}/index", options)
        name = lance.table_name(MODEL, 1)
        url_id = uuid.UUID(int=30)
        tables.upsert_url(name, 256, url_id, rows(url_id, 6))
        tables.upsert_url(name, 256, url_id, rows(url_id, 2))

        again = lance.LanceTables(f"s3://{bucket}/index", options)  # another process
        assert again.names() == [name]
        assert again.get(name).count_rows() == 2
        listed = server.client().list_objects_v2(Bucket=bucket, Prefix="index/")
        assert listed["KeyCount"] > 0


def test_the_ann_index_is_trained_again_once_the_table_has_grown(tmp_path: Path) -> None:
    """Its partitions stay a few thousand rows, not a fixed count for any size."""
    tables = lance.LanceTables(str(tmp_path), ann_threshold=300)
    name = lance.table_name(MODEL, 1)

    def grow_to(urls: int) -> list[str]:
        for number in range(urls):
            url_id = uuid.UUID(int=100 + number)
            tables.upsert_url(name, 256, url_id, rows(url_id, 100, seed=number))
        tables.maintain(name)
        return [i.name for i in tables.get(name).list_indices() if i.columns == ["vector"]]

    assert grow_to(3) == [f"{lance.ANN_PREFIX}300"]
    assert grow_to(11) == [f"{lance.ANN_PREFIX}300"]  # 1,100 rows: not 4x yet
    assert grow_to(12) == [f"{lance.ANN_PREFIX}1200"]
