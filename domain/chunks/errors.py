"""Errors of the chunks area."""

from domain.common import DomainError


class InvalidChunkSettings(DomainError):
    slug = "invalid-chunk-settings"


class InvalidChunkSize(InvalidChunkSettings):
    slug = "invalid-chunk-size"


class InvalidChunkOverlap(InvalidChunkSettings):
    slug = "invalid-chunk-overlap"
