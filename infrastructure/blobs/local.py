"""A BlobStore on a local directory: the default (`<data dir>/blobs`).

A key maps to the path of the same name under the root. Blobs are written
atomically (a hidden temporary file in the target directory, fsync, rename)
and never rewritten, so a reader sees a whole blob or none.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from application.ports import BlobNotFound, BlobRef
from infrastructure.blobs import blob_ref, is_key, key_digest, verified

# A prefix made only of whole path segments lets `keys` walk just that subtree.
_PLAIN_DIRECTORY = re.compile(r"[a-z0-9-]+(/[a-z0-9-]+)*")


class LocalBlobStore:
    """Content-addressed blobs as files under `root` (created on first write)."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def put(self, data: bytes, *, kind: str) -> BlobRef:
        """Write `data` once under its hash; a blob already there is left alone."""
        ref = blob_ref(data, kind)
        path = self._path(ref.key)
        if path.is_file():
            return ref
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            # Two writers of the same key race harmlessly: both files hold the
            # same bytes, and the rename replaces one whole file by another.
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)  # no debris after a full disk
            raise
        _fsync_directory(path.parent)  # the rename itself survives a crash
        return ref

    def get(self, key: str) -> bytes:
        """The blob's bytes; BlobNotFound when absent, BlobCorrupted when altered."""
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        return verified(key, data)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        """Remove the blob's file; a missing one is fine (idempotent)."""
        self._path(key).unlink(missing_ok=True)

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Keys of the blobs whose key starts with `prefix`; temporary files are skipped."""
        head = prefix.rpartition("/")[0]
        start = self._root / head if _PLAIN_DIRECTORY.fullmatch(head) else self._root
        for directory, _, files in os.walk(start):
            relative = Path(directory).relative_to(self._root).as_posix()
            for name in files:
                key = f"{relative}/{name}"
                if key.startswith(prefix) and is_key(key):
                    yield key

    def _path(self, key: str) -> Path:
        key_digest(key)  # only well-formed keys: nothing outside the root is reachable
        return self._root.joinpath(*key.split("/"))

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self._root)!r})"


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
