"""The vector cache in Postgres: (model id, text hash) -> float32 bytes.

Many workers share it; the first write of a pair wins (equal vectors anyway).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from eventsourcing.postgres import PostgresDatastore

from application.vectorization.ports import Vectors

DDL = (
    "CREATE TABLE IF NOT EXISTS trawl_vector_cache ("
    " model_id text NOT NULL, text_hash text NOT NULL, vector bytea NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (model_id, text_hash))",
)


class PostgresVectorCache:
    """`VectorCache` over the `trawl_vector_cache` table."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore

    def create_tables(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for statement in DDL:
                curs.execute(statement)

    def get_many(self, model_id: str, text_hashes: Sequence[str]) -> dict[str, Vectors]:
        if not text_hashes:
            return {}
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT text_hash, vector FROM trawl_vector_cache"
                " WHERE model_id = %s AND text_hash = ANY(%s)",
                (model_id, list(text_hashes)),
                prepare=True,
            )
            return {
                row["text_hash"]: np.frombuffer(bytes(row["vector"]), dtype="<f4")
                for row in curs.fetchall()
            }

    def put_many(self, model_id: str, vectors: Mapping[str, Vectors]) -> None:
        if not vectors:
            return
        # In key order: two writers of overlapping texts never wait on each other in a cycle.
        hashes = sorted(vectors)
        matrix = np.stack([np.asarray(vectors[h], dtype="<f4") for h in hashes])
        width = matrix.shape[1] * matrix.itemsize  # bytes per vector: one model, one size
        with self.datastore.transaction(commit=True) as curs:
            # A cache: losing its last writes in a crash costs a re-embed, never data.
            curs.execute("SET LOCAL synchronous_commit = off")
            # One statement, one bytes parameter cut into rows by the server: a
            # statement per row (pipelined) or an array of bytea spends its time
            # in Python adapting each row (7-10 ms for 150 vectors, against ~1).
            curs.execute(
                "INSERT INTO trawl_vector_cache (model_id, text_hash, vector)"
                " SELECT %(model)s, h,"
                " substr(%(all)s::bytea, ((i - 1) * %(width)s + 1)::int, %(width)s::int)"
                " FROM unnest(%(hashes)s::text[]) WITH ORDINALITY AS t(h, i) ORDER BY i"
                " ON CONFLICT DO NOTHING",
                {"model": model_id, "all": matrix.tobytes(), "width": width, "hashes": hashes},
            )

    def forget(self, text_hashes: Sequence[str]) -> None:
        """Drop the cached vectors of these texts, for every model (retention)."""
        if not text_hashes:
            return
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "DELETE FROM trawl_vector_cache WHERE text_hash = ANY(%s)", (list(text_hashes),)
            )
