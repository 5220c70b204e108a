import hashlib
from pathlib import Path

import pytest

from application.ports import BlobCorrupted, BlobNotFound, BlobRef
from infrastructure.blobs.local import LocalBlobStore
from tests.support.blobs import put_at_once

pytestmark = pytest.mark.unit

PAGE = b"<html><body>caf\xc3\xa9</body></html>"
DIGEST = hashlib.sha256(PAGE).hexdigest()


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_put_answers_the_content_addressed_key_and_get_returns_the_bytes(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)

    ref = store.put(PAGE, kind="raw")

    assert ref == BlobRef(f"raw/sha256/{DIGEST[:2]}/{DIGEST}", DIGEST, len(PAGE))
    assert store.get(ref.key) == PAGE
    assert store.exists(ref.key)


def test_the_same_bytes_twice_give_one_key_and_one_file_written_once(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    first = store.put(PAGE, kind="raw")
    inode = (tmp_path / first.key).stat().st_ino

    second = store.put(PAGE, kind="raw")

    assert second == first
    assert files_under(tmp_path) == [tmp_path / first.key]
    assert (tmp_path / first.key).stat().st_ino == inode  # not replaced


def test_different_kinds_keep_the_same_bytes_apart(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)

    raw, text = store.put(PAGE, kind="raw"), store.put(PAGE, kind="text")

    assert raw.key != text.key
    assert raw.sha256 == text.sha256
    assert set(store.keys()) == {raw.key, text.key}


def test_empty_content_is_a_blob_too(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)

    ref = store.put(b"", kind="text")

    assert ref.size == 0
    assert store.get(ref.key) == b""


@pytest.mark.parametrize("kind", ["", "Raw", "raw/x", "../raw", "raw text", "r" * 33])
def test_a_kind_that_is_not_a_short_slug_is_refused(tmp_path: Path, kind: str) -> None:
    with pytest.raises(ValueError, match="kind"):
        LocalBlobStore(tmp_path).put(PAGE, kind=kind)
    assert files_under(tmp_path) == []


def test_a_tampered_blob_is_an_error_not_bad_data(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    ref = store.put(PAGE, kind="raw")
    (tmp_path / ref.key).write_bytes(PAGE.replace(b"body", b"BODY"))

    with pytest.raises(BlobCorrupted, match=ref.key):
        store.get(ref.key)


def test_a_missing_blob_is_blob_not_found(tmp_path: Path) -> None:
    key = f"raw/sha256/{DIGEST[:2]}/{DIGEST}"

    with pytest.raises(BlobNotFound):
        LocalBlobStore(tmp_path).get(key)
    assert not LocalBlobStore(tmp_path).exists(key)


@pytest.mark.parametrize(
    "key",
    [
        "../outside",
        f"raw/sha256/{DIGEST[:2]}/../../../{DIGEST}",
        f"/raw/sha256/{DIGEST[:2]}/{DIGEST}",
        "/etc/passwd",
        f"raw/sha256/00/{DIGEST}",  # fan-out that does not match the hash
        f"raw/sha256/{DIGEST[:2]}/{DIGEST.upper()}",
        f"raw\\sha256\\{DIGEST[:2]}\\{DIGEST}",
        "",
    ],
)
def test_keys_that_are_not_blob_keys_never_reach_the_disk(tmp_path: Path, key: str) -> None:
    root = tmp_path / "blobs"
    store = LocalBlobStore(root)
    (tmp_path / "outside").write_bytes(b"secret")

    for operation in (store.get, store.exists, store.delete):
        with pytest.raises(ValueError, match="not a blob key"):
            operation(key)
    assert (tmp_path / "outside").read_bytes() == b"secret"


def test_keys_lists_what_was_put_filtered_by_prefix(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    raws = {store.put(f"page {n}".encode(), kind="raw").key for n in range(5)}
    text = store.put(b"text", kind="text").key
    one = sorted(raws)[0]

    assert set(store.keys()) == raws | {text}
    assert set(store.keys("raw/")) == raws
    assert set(store.keys("text")) == {text}
    assert list(store.keys(one[: len("raw/sha256/") + 2])) == [
        k for k in sorted(raws) if k.startswith(one[: len("raw/sha256/") + 2])
    ]
    assert list(store.keys("vectors/")) == []


def test_keys_skips_temporary_and_foreign_files(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    ref = store.put(PAGE, kind="raw")
    (tmp_path / ref.key).with_name(".half-written.tmp").write_bytes(b"x")
    (tmp_path / "README").write_text("not a blob")

    assert list(store.keys()) == [ref.key]


def test_delete_removes_the_blob_and_is_idempotent(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    ref = store.put(PAGE, kind="raw")

    store.delete(ref.key)
    store.delete(ref.key)

    assert not store.exists(ref.key)
    assert list(store.keys()) == []
    with pytest.raises(BlobNotFound):
        store.get(ref.key)


def test_concurrent_puts_of_the_same_content_all_succeed(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path)
    data = PAGE * 10_000
    refs, errors = put_at_once(store, data)

    assert errors == []
    assert len(refs) == 8
    assert len(set(refs)) == 1
    assert files_under(tmp_path) == [tmp_path / refs[0].key]  # no temporary debris
    assert store.get(refs[0].key) == data
