"""WordLlama embedder: offline, its weights ship in the wheel (MIT, 256 dims).

Loaded once per process and configuration (a lock guards the load); the
model is read-only afterwards, so threads share it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import wordllama  # type: ignore[import-untyped]

from application.vectorization.ports import EmbeddingFailed, Vectors
from domain.vectorization.models import WORDLLAMA, parse_model_id

_LOCK = threading.Lock()
_LOADED: dict[tuple[str, int], Any] = {}
# Texts per library batch: WordLlama pads a batch to its longest text and pools
# a (batch x tokens x dims) array, which stays in cache at 32 page chunks: 0.39
# ms of CPU per chunk, against 0.71-0.92 at 256 (docs/benchmarks.md).
BATCH = 32


def _load(config: str, dims: int) -> Any:
    with _LOCK:
        if (config, dims) not in _LOADED:
            _LOADED[config, dims] = wordllama.WordLlama.load(
                config=config,
                cache_dir=Path(wordllama.__file__).parent,
                disable_download=True,  # never reach the network: the weights are in the wheel
                dim=dims,
            )
        return _LOADED[config, dims]


class WordLlamaEmbedder:
    """`Embedder` over WordLlama; model ids `wordllama/<config>-<dims>`."""

    def __init__(self, model_id: str = "wordllama/l2_supercat-256") -> None:
        parsed = parse_model_id(model_id)
        if parsed.provider != WORDLLAMA:
            raise ValueError(f"not a wordllama model id: {model_id}")
        self.model_id = str(parsed)
        self.dimensions = parsed.dimensions
        self._model = _load(parsed.model, parsed.dimensions)

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        try:
            vectors = self._model.embed(list(texts), norm=True, batch_size=BATCH)
        except Exception as error:
            raise EmbeddingFailed(f"wordllama: {error}", transient=False) from error
        return np.ascontiguousarray(vectors, dtype=np.float32)
