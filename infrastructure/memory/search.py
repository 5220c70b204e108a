"""In-memory stand-ins for vectorization (unit tests): a hashing embedder, a cache, an index.

`HashingEmbedder` is deterministic bag-of-words hashing (no model): similar
word sets give similar vectors, which is all unit tests need. The memory
index is brute force over chunks put into it directly.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from uuid import UUID

import numpy as np

from application.vectorization.ports import TEXT, Hit, Vectors

_WORD = re.compile(r"\w+")


class HashingEmbedder:
    def __init__(self, model_id: str = "wordllama/l2_supercat-256", dimensions: int = 256) -> None:
        self.model_id = model_id
        self.dimensions = dimensions
        self.calls: list[int] = []  # batch sizes, so tests see what was embedded

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.calls.append(len(texts))
        matrix = np.zeros((len(texts), self.dimensions), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                matrix[row, int.from_bytes(digest, "little") % self.dimensions] += 1.0
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return (matrix / np.where(norms == 0, 1, norms)).astype(np.float32)


class StaticEmbedders:
    """`Embedders` answering one embedder for every model id."""

    def __init__(self, embedder: HashingEmbedder) -> None:
        self.embedder = embedder

    def get(self, model_id: str) -> HashingEmbedder:
        return self.embedder

    def usable(self, model_id: str) -> bool:
        return True


class MemoryVectorCache:
    def __init__(self) -> None:
        self.vectors: dict[tuple[str, str], Vectors] = {}

    def get_many(self, model_id: str, text_hashes: Sequence[str]) -> dict[str, Vectors]:
        found = ((h, self.vectors.get((model_id, h))) for h in text_hashes)
        return {h: v for h, v in found if v is not None}

    def put_many(self, model_id: str, vectors: Mapping[str, Vectors]) -> None:
        for text_hash, vector in vectors.items():
            self.vectors.setdefault((model_id, text_hash), vector)

    def forget(self, text_hashes: Sequence[str]) -> None:
        gone = set(text_hashes)
        self.vectors = {key: v for key, v in self.vectors.items() if key[1] not in gone}


class MemorySearchIndex:
    """Brute force over `(project, hit, vector)` entries a test puts in `entries`."""

    def __init__(self) -> None:
        self.entries: list[tuple[UUID, Hit, Vectors]] = []

    def model_of(self, project_id: UUID, wanted: str) -> str:
        return wanted

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
        words = set(_WORD.findall(query.lower()))
        scored = []
        for project, hit, stored in self.entries:
            if project != project_id or (url_id is not None and hit.url_id != url_id):
                continue
            if mode == TEXT or vector is None:
                score = float(len(words & set(_WORD.findall(hit.text.lower()))))
            else:
                score = float(np.dot(stored, vector))
            scored.append((score, hit))
        scored.sort(key=lambda pair: -pair[0])
        return [hit for _, hit in scored[:k]]
