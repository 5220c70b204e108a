import hashlib
from typing import Any

import pytest

from application.ports import BlobCorrupted, BlobNotFound, BlobRef
from infrastructure.aws.s3 import S3BlobStore
from tests.support.blobs import put_at_once

pytestmark = pytest.mark.integration

PAGE = b"<html><body>caf\xc3\xa9</body></html>"
DIGEST = hashlib.sha256(PAGE).hexdigest()


def objects(client: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_put_answers_the_content_addressed_key_and_get_returns_the_bytes(
    store: S3BlobStore, s3_client: Any, bucket: str
) -> None:
    ref = store.put(PAGE, kind="raw")

    assert ref == BlobRef(f"raw/sha256/{DIGEST[:2]}/{DIGEST}", DIGEST, len(PAGE))
    assert store.get(ref.key) == PAGE
    assert store.exists(ref.key)
    assert objects(s3_client, bucket) == [f"blobs/{ref.key}"]


def test_the_same_bytes_twice_give_one_key_written_once(
    store: S3BlobStore, s3_client: Any, bucket: str
) -> None:
    # With versioning on, every write would leave a version behind.
    s3_client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})

    first, second = store.put(PAGE, kind="raw"), store.put(PAGE, kind="raw")

    assert first == second
    versions = s3_client.list_object_versions(Bucket=bucket)["Versions"]
    assert [v["Key"] for v in versions] == [f"blobs/{first.key}"]


def test_different_kinds_keep_the_same_bytes_apart(store: S3BlobStore) -> None:
    raw, text = store.put(PAGE, kind="raw"), store.put(PAGE, kind="text")

    assert raw.key != text.key
    assert set(store.keys()) == {raw.key, text.key}


@pytest.mark.parametrize("kind", ["", "Raw", "raw/x", "../raw", "r" * 33])
def test_a_kind_that_is_not_a_short_slug_is_refused(
    store: S3BlobStore, s3_client: Any, bucket: str, kind: str
) -> None:
    with pytest.raises(ValueError, match="kind"):
        store.put(PAGE, kind=kind)
    assert objects(s3_client, bucket) == []


def test_an_altered_object_is_an_error_not_bad_data(
    store: S3BlobStore, s3_client: Any, bucket: str
) -> None:
    ref = store.put(PAGE, kind="raw")
    s3_client.put_object(Bucket=bucket, Key=f"blobs/{ref.key}", Body=b"something else")

    with pytest.raises(BlobCorrupted, match=ref.key):
        store.get(ref.key)


def test_a_missing_blob_is_blob_not_found(store: S3BlobStore) -> None:
    key = f"raw/sha256/{DIGEST[:2]}/{DIGEST}"

    with pytest.raises(BlobNotFound):
        store.get(key)
    assert not store.exists(key)


@pytest.mark.parametrize("key", ["../outside", "/raw", f"raw/sha256/00/{DIGEST}", ""])
def test_keys_that_are_not_blob_keys_are_refused(store: S3BlobStore, key: str) -> None:
    for operation in (store.get, store.exists, store.delete):
        with pytest.raises(ValueError, match="not a blob key"):
            operation(key)


def test_keys_lists_what_was_put_across_pages_filtered_by_prefix(
    store: S3BlobStore, s3_client: Any, bucket: str
) -> None:
    raws = {store.put(f"page {n}".encode(), kind="raw").key for n in range(12)}
    text = store.put(b"text", kind="text").key
    s3_client.put_object(Bucket=bucket, Key="blobs/raw/notes.txt", Body=b"not a blob")
    # Pages of 5 keys make the listing follow continuation tokens.
    pages: list[object] = []
    s3_client.meta.events.register(
        "before-parameter-build.s3.ListObjectsV2", lambda params, **_: params.update(MaxKeys=5)
    )
    s3_client.meta.events.register(
        "before-send.s3.ListObjectsV2", lambda request, **_: pages.append(request)
    )

    assert set(store.keys()) == raws | {text}
    assert len(pages) == 3  # 14 objects, 5 a page
    assert set(store.keys("raw/")) == raws
    assert list(store.keys("text/")) == [text]
    assert list(store.keys("vectors/")) == []


def test_delete_removes_the_blob_and_is_idempotent(
    store: S3BlobStore, s3_client: Any, bucket: str
) -> None:
    ref = store.put(PAGE, kind="raw")

    store.delete(ref.key)
    store.delete(ref.key)

    assert not store.exists(ref.key)
    assert objects(s3_client, bucket) == []
    with pytest.raises(BlobNotFound):
        store.get(ref.key)


def test_stores_with_different_prefixes_in_one_bucket_do_not_see_each_other(
    bucket: str, s3_client: Any
) -> None:
    tenant_a = S3BlobStore(bucket, prefix="a", client=s3_client)
    tenant_ab = S3BlobStore(bucket, prefix="ab/", client=s3_client)
    only_a = tenant_a.put(b"only a", kind="raw")
    only_ab = tenant_ab.put(b"only ab", kind="raw")
    shared = tenant_a.put(PAGE, kind="raw")

    assert set(tenant_a.keys()) == {only_a.key, shared.key}
    assert list(tenant_ab.keys()) == [only_ab.key]
    assert not tenant_ab.exists(shared.key)
    tenant_ab.delete(only_a.key)
    assert tenant_a.get(only_a.key) == b"only a"


def test_concurrent_puts_of_the_same_content_all_succeed(
    store: S3BlobStore, s3_client: Any, bucket: str
) -> None:
    data = PAGE * 10_000
    refs, errors = put_at_once(store, data)

    assert errors == []
    assert len(set(refs)) == 1
    assert len(refs) == 8
    assert objects(s3_client, bucket) == [f"blobs/{refs[0].key}"]
    assert store.get(refs[0].key) == data
