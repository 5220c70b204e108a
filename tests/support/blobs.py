"""Checks every BlobStore adapter must pass, shared by their tests."""

from __future__ import annotations

import threading

from application.ports import BlobRef, BlobStore


def put_at_once(
    store: BlobStore, data: bytes, writers: int = 8
) -> tuple[list[BlobRef], list[BaseException]]:
    """`writers` threads put the same bytes at the same moment: their refs and errors."""
    start = threading.Barrier(writers)
    refs: list[BlobRef] = []
    errors: list[BaseException] = []

    def put() -> None:
        start.wait()
        try:
            refs.append(store.put(data, kind="raw"))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=put) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return refs, errors
