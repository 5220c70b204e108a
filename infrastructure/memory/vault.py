"""In-memory key vault (unit tests): same crypto, keys in a dict."""

from __future__ import annotations

import threading
from uuid import UUID

from infrastructure import crypto


class MemoryKeyVault:
    def __init__(self) -> None:
        self._keys: dict[UUID, bytes] = {}
        self._forgotten: set[UUID] = set()
        self._lock = threading.Lock()

    def _key(self, subject_id: UUID, create: bool) -> bytes | None:
        with self._lock:
            key = self._keys.get(subject_id)
            if key is None and create and subject_id not in self._forgotten:
                key = self._keys[subject_id] = crypto.new_key()
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
        with self._lock:
            self._keys.pop(subject_id, None)
            self._forgotten.add(subject_id)

    def digest(self, subject_id: UUID, value: str) -> str:
        key = self._key(subject_id, create=True)
        if key is None:
            raise ValueError("digest subject was forgotten")
        return crypto.digest(key, value)
