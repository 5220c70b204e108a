"""Extraction in worker processes: the Extractor port over a process pool.

Extraction is pure-Python CPU work (trafilatura, lxml), so worker THREADS
share one core through the GIL however many there are. `PooledExtractor`
sends each page to a pool of `processes` child processes (each with its own
TrafilaturaExtractor), so extraction uses every core while the threads do
the I/O. Children are started with `spawn` (never `fork` a process that runs
threads) once, on first use, and live until `close()`; a child that dies is
replaced by the executor breaking and a fresh pool on the next call.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
import types
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from application.ports import Extracted
from domain.chunks.splitter import ChunkSettings
from infrastructure.extraction.trafilatura import TrafilaturaExtractor

_EXTRACTOR: TrafilaturaExtractor | None = None


def _start() -> None:
    """Runs in each child as it starts: import and build its extractor once."""
    global _EXTRACTOR  # noqa: PLW0603 - the child's own extractor
    _EXTRACTOR = TrafilaturaExtractor()
    parent = os.getppid()
    threading.Thread(target=_exit_with, args=(parent,), name="parent-watch", daemon=True).start()


def _exit_with(parent: int) -> None:
    """A child whose parent died (killed, no shutdown) would wait for work
    forever: once it is adopted by another process, it ends too."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _ready(seconds: float) -> None:
    time.sleep(seconds)  # holds a child, so the next warm-up task starts another


def _extract(body: bytes, url: str, content_type: str, chunking: ChunkSettings | None) -> Extracted:
    """Runs in a child, with the extractor `_start` built."""
    assert _EXTRACTOR is not None
    return _EXTRACTOR.extract(body, url=url, content_type=content_type, chunking=chunking)


class PooledExtractor:
    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def extract(
        self, body: bytes, *, url: str, content_type: str, chunking: ChunkSettings | None = None
    ) -> Extracted:
        """As TrafilaturaExtractor.extract (chunking included), in a child
        process (ExtractionFailed is re-raised)."""
        try:
            future = self._executor().submit(_extract, body, url, content_type, chunking)
            return future.result()
        except BrokenProcessPool:
            self._reset()
            raise

    def warm(self) -> list[Future[None]]:
        """Start every child now (in the background), not on the first pages;
        the warm-up tasks (done once every child is up).

        The children are spawned without the parent's `__main__` (`trawl`,
        which would import the whole application into each of them): they
        need only this module and trafilatura.
        """
        pool = self._executor()
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            return [pool.submit(_ready, 0.2) for _ in range(self.processes)]
        finally:
            sys.modules["__main__"] = main

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    self.processes,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=_start,
                )
            return self._pool

    def _reset(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
