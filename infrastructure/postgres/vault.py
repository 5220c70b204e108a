"""The key vault on Postgres: one random AES key per data subject.

Keys live in `trawl_subject_keys`; `forget` deletes the row and remembers the
subject in `trawl_forgotten_subjects`, so no new key is ever created for it.
Keys are cached per process (a key never changes). `forget` notifies
`trawl_keys` in its transaction; every process that listens (bootstrap wires
the vault to the process's listener) evicts the key when it commits, and a
process that lost its listening connection drops its whole cache.
"""

from __future__ import annotations

import threading
from uuid import UUID

from eventsourcing.postgres import PostgresDatastore

from infrastructure import crypto

DDL = (
    "CREATE TABLE IF NOT EXISTS trawl_subject_keys ("
    " subject_id uuid PRIMARY KEY, key bytea NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now())",
    "CREATE TABLE IF NOT EXISTS trawl_forgotten_subjects ("
    " subject_id uuid PRIMARY KEY, forgotten_at timestamptz NOT NULL DEFAULT now())",
)


CHANNEL = "trawl_keys"


class PostgresKeyVault:
    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore
        self._cache: dict[UUID, bytes] = {}
        self._lock = threading.Lock()

    def create_tables(self) -> None:
        with self.datastore.transaction(commit=True) as curs:
            for statement in DDL:
                curs.execute(statement)

    def _key(self, subject_id: UUID, create: bool) -> bytes | None:
        with self._lock:
            cached = self._cache.get(subject_id)
        if cached is not None:
            return cached
        with self.datastore.transaction(commit=True) as curs:
            if create:
                curs.execute(
                    "INSERT INTO trawl_subject_keys (subject_id, key)"
                    " SELECT %s, %s WHERE NOT EXISTS"
                    " (SELECT 1 FROM trawl_forgotten_subjects WHERE subject_id = %s)"
                    " ON CONFLICT (subject_id) DO NOTHING",
                    (subject_id, crypto.new_key(), subject_id),
                )
            curs.execute("SELECT key FROM trawl_subject_keys WHERE subject_id = %s", (subject_id,))
            row = curs.fetchone()
        if row is None:
            return None
        key = bytes(row["key"])
        with self._lock:
            self._cache[subject_id] = key
        return key

    def encrypt(self, subject_id: UUID, plaintext: str) -> str:
        key = self._key(subject_id, create=True)
        if key is None:
            raise ValueError("subject was forgotten: its key is gone")
        return crypto.encrypt(key, subject_id, plaintext)

    def decrypt(self, subject_id: UUID, ciphertext: str) -> str | None:
        key = self._key(subject_id, create=False)
        return None if key is None else crypto.decrypt(key, subject_id, ciphertext)

    def forget(self, subject_id: UUID) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                "INSERT INTO trawl_forgotten_subjects (subject_id) VALUES (%s)"
                " ON CONFLICT DO NOTHING",
                (subject_id,),
            )
            curs.execute("DELETE FROM trawl_subject_keys WHERE subject_id = %s", (subject_id,))
            curs.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(subject_id)))
        self.evict(str(subject_id))

    def evict(self, subject_id: str) -> None:
        """Drop one cached key (a `trawl_keys` notification from any process)."""
        with self._lock:
            self._cache.pop(UUID(subject_id), None)

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def digest(self, subject_id: UUID, value: str) -> str:
        key = self._key(subject_id, create=True)
        if key is None:
            raise ValueError("digest subject was forgotten")
        return crypto.digest(key, value)
