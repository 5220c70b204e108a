"""Chunk settings: the size and overlap a project may choose."""

from __future__ import annotations

import pytest

from domain.chunks import errors
from domain.chunks.splitter import ChunkSettings

pytestmark = pytest.mark.unit


def test_defaults_are_1000_characters_with_150_of_overlap() -> None:
    assert ChunkSettings() == ChunkSettings(size=1000, overlap=150)


@pytest.mark.parametrize(("size", "overlap"), [(200, 0), (200, 99), (8000, 3999), (1000, 150)])
def test_sizes_from_200_to_8000_with_overlap_below_half_are_accepted(
    size: int, overlap: int
) -> None:
    assert ChunkSettings(size, overlap).size == size


@pytest.mark.parametrize("size", [199, 8001, 0, -1, True, 1000.0])
def test_other_sizes_are_refused(size: int) -> None:
    with pytest.raises(errors.InvalidChunkSize):
        ChunkSettings(size=size, overlap=0)


@pytest.mark.parametrize(("size", "overlap"), [(200, 100), (201, 101), (1000, -1), (1000, 900)])
def test_overlap_of_half_the_size_or_more_or_negative_is_refused(size: int, overlap: int) -> None:
    with pytest.raises(errors.InvalidChunkOverlap):
        ChunkSettings(size=size, overlap=overlap)


def test_setting_errors_are_domain_errors_with_their_own_problem_types() -> None:
    with pytest.raises(errors.InvalidChunkSettings) as caught:
        ChunkSettings(size=10)
    assert caught.value.slug == "invalid-chunk-size"
