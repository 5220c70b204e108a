"""A project's ingestion settings: chunking, periodic refresh, embedding model.

`ProjectSettings` validates a complete set of values; the Project records
each kind of change as its own event, so consumers (the re-chunker, the
refresher, the re-vectorizer) follow only the facts they care about.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.chunks import splitter
from domain.projects import errors
from domain.vectorization import models

DEFAULT_EMBEDDING_MODEL = "wordllama/l2_supercat-256"
MIN_REFRESH_SECONDS = 60
MAX_REFRESH_SECONDS = 366 * 24 * 3600
MODEL_MAX_LENGTH = 200


@dataclass(frozen=True)
class ProjectSettings:
    chunk_size: int = splitter.ChunkSettings.size
    chunk_overlap: int = splitter.ChunkSettings.overlap
    refresh_interval_seconds: int | None = None
    embedding_model: str = DEFAULT_EMBEDDING_MODEL

    def __post_init__(self) -> None:
        splitter.ChunkSettings(self.chunk_size, self.chunk_overlap)  # raises when invalid
        check_refresh_interval(self.refresh_interval_seconds)
        check_embedding_model(self.embedding_model)

    @property
    def chunking(self) -> splitter.ChunkSettings:
        return splitter.ChunkSettings(self.chunk_size, self.chunk_overlap)


def check_refresh_interval(seconds: int | None) -> None:
    if seconds is None:
        return
    if (
        not isinstance(seconds, int)
        or isinstance(seconds, bool)
        or not MIN_REFRESH_SECONDS <= seconds <= MAX_REFRESH_SECONDS
    ):
        raise errors.InvalidSettings(
            f"refresh_interval_seconds must be null (off) or an integer from"
            f" {MIN_REFRESH_SECONDS} to {MAX_REFRESH_SECONDS}"
        )


def check_embedding_model(model: str) -> models.ModelId:
    """A model Trawl can embed with (domain/vectorization/models.py), parsed."""
    if not isinstance(model, str) or len(model) > MODEL_MAX_LENGTH:
        raise errors.InvalidSettings("embedding_model must be a model id string")
    return models.parse_model_id(model)  # raises InvalidModelId (invalid-model) with the reason


def check_new_embedding_model(model: str) -> None:
    """A model a project may be given now: well formed and in its one spelling.

    The id keys the vector cache and names the search table, so `-0256` beside
    `-256` would be a second model in the cache sharing the first one's table.
    Only new values are held to it: events recorded before are replayed as
    they are."""
    if (canonical := str(check_embedding_model(model))) != model:
        raise models.InvalidModelId(f"write the model id as {canonical}")
