"""Ports of vectorization and search: embedders, the vector cache, the search index.

Vectors cross these ports as float32 numpy arrays of shape (n, dimensions),
unit-normalised (numpy is arithmetic, not I/O).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]

VECTOR, TEXT, HYBRID = "vector", "text", "hybrid"
MODES = (HYBRID, VECTOR, TEXT)


class EmbeddingFailed(Exception):
    """The embedder gave no usable vectors (outage, throttled too long, a malformed answer)."""

    def __init__(self, reason: str, *, transient: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


class Embedder(Protocol):
    """Turns texts into unit-normalised vectors. Adapters: WordLlama, Bedrock Titan v2.

    Thread-safe: one instance per model per process serves every worker.
    """

    model_id: str
    dimensions: int

    def embed(self, texts: Sequence[str]) -> Vectors:
        """One vector per text, in order; raises EmbeddingFailed."""
        ...


class Embedders(Protocol):
    """The embedder of a model id (created once, then shared)."""

    def get(self, model_id: str) -> Embedder: ...

    def usable(self, model_id: str) -> bool:
        """Whether this deployment can embed with the model (its weights are
        here, or it is a remote service): a project may only be set to those."""
        ...


class VectorCache(Protocol):
    """Vectors already computed, by (model id, text hash): unchanged text is never re-embedded."""

    def get_many(self, model_id: str, text_hashes: Sequence[str]) -> dict[str, Vectors]:
        """The cached vectors (1-d arrays) of the hashes found; the others are left out."""
        ...

    def put_many(self, model_id: str, vectors: Mapping[str, Vectors]) -> None:
        """Remember vectors (first write wins: they are equal anyway)."""
        ...

    def forget(self, text_hashes: Sequence[str]) -> None:
        """Drop the vectors of these texts, for every model (blob retention)."""
        ...


@dataclass(frozen=True)
class Hit:
    """One chunk found by a search, with what a citation needs."""

    chunk_id: UUID
    url_id: UUID
    url: str
    title: str | None
    text: str
    score: float
    start: int
    end: int
    version: int
    ordinal: int


class SearchIndex(Protocol):
    """The search projection's read side (LanceDB in production)."""

    def search(
        self,
        project_id: UUID,
        model_id: str,
        query: str,
        vector: Vectors | None,
        k: int,
        mode: str,
        url_id: UUID | None = None,
    ) -> list[Hit]:
        """The best `k` chunks of the project (of one URL if given), best first."""
        ...

    def model_of(self, project_id: UUID, wanted: str) -> str:
        """The model whose vectors answer the project's searches now.

        `wanted` once its index covers every URL the project has indexed
        under another model (a model change completes in the background, and
        the old model's rows of the project are then deleted); the old model before.
        """
        ...
