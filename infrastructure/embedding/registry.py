"""The embedders of a process, one per model id, created on first use."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

from application.vectorization.ports import Embedder
from domain.vectorization.models import BEDROCK, WORDLLAMA, parse_model_id


class EmbedderRegistry:
    """`Embedders`: WordLlama in process, Bedrock with the given client settings."""

    def __init__(self, **bedrock: Any) -> None:
        self.bedrock = bedrock  # region, endpoint_url, concurrency, requests_per_minute
        self._made: dict[str, Embedder] = {}
        self._lock = threading.Lock()

    def get(self, model_id: str) -> Embedder:
        with self._lock:
            if model_id not in self._made:
                self._made[model_id] = self._make(model_id)
            return self._made[model_id]

    def usable(self, model_id: str) -> bool:
        """Bedrock models: yes (the service decides); WordLlama: when its
        weights file ships here (only `l2_supercat-256` does in the wheel,
        and nothing is ever downloaded)."""
        parsed = parse_model_id(model_id)
        if parsed.provider != WORDLLAMA:
            return True
        spec = importlib.util.find_spec("wordllama")
        folders = spec.submodule_search_locations if spec else None
        weights = f"{parsed.model}_{parsed.dimensions}.safetensors"
        return any((Path(folder) / "weights" / weights).is_file() for folder in folders or ())

    def _make(self, model_id: str) -> Embedder:
        provider = parse_model_id(model_id).provider
        if provider == WORDLLAMA:
            from infrastructure.embedding.wordllama import WordLlamaEmbedder

            return WordLlamaEmbedder(model_id)
        if provider == BEDROCK:
            from infrastructure.aws.bedrock import BedrockEmbedder

            return BedrockEmbedder(model_id, **self.bedrock)
        raise ValueError(f"no embedder for {model_id}")  # pragma: no cover - parse refuses
