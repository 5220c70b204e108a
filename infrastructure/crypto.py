"""AES-256-GCM for personal fields; the subject id is the associated data."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def encrypt(key: bytes, subject_id: UUID, plaintext: str) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), subject_id.bytes)
    return base64.b64encode(nonce + sealed).decode()


def decrypt(key: bytes, subject_id: UUID, ciphertext: str) -> str:
    """Open a sealed field; raises ValueError when it was tampered with."""
    raw = base64.b64decode(ciphertext)
    try:
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], subject_id.bytes)
    except InvalidTag:
        raise ValueError("personal field failed authentication") from None
    return plain.decode()


def digest(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
