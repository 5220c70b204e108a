"""The vectors blob: a float32 `.npy` matrix, one row per chunk in chunk order."""

from __future__ import annotations

import io

import numpy as np

from application.vectorization.ports import Vectors

KIND = "vectors"


def encode(matrix: Vectors) -> bytes:
    """Deterministic bytes (the same vectors give the same blob key)."""
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(matrix, dtype="<f4"), allow_pickle=False)
    return buffer.getvalue()


def decode(data: bytes) -> Vectors:
    matrix = np.load(io.BytesIO(data), allow_pickle=False)
    if matrix.ndim != 2 or matrix.dtype != np.dtype("<f4"):
        raise ValueError(f"not a float32 matrix: {matrix.dtype} {matrix.shape}")
    result: Vectors = matrix.astype(np.float32, copy=False)
    return result
