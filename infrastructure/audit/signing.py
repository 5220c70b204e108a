"""The audit signing key (Ed25519) and signed checkpoints.

The private key comes from `TRAWL_AUDIT_SIGNING_KEY` (64 hex digits: the
raw 32-byte key), or is generated once into `<data dir>/audit_signing_key`
(mode 0600), like the JWT secret. Auditors get the public key
(`trawl audit public-key`) to check checkpoints offline.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from application.audit.exports import Checkpoint, message
from infrastructure.settings import Settings

KEY_FILE = "audit_signing_key"


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The configured key, or the one generated into the data directory."""
    if settings.audit_signing_key:
        return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(settings.audit_signing_key))
    path = settings.data_path / KEY_FILE
    if not path.exists():
        _create(path)
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(path.read_text().strip()))


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{KEY_FILE}.{os.getpid()}")
    fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(os.urandom(32).hex())
    try:
        os.link(aside, path)  # of processes starting together, exactly one wins
    except FileExistsError:
        pass
    finally:
        os.unlink(aside)


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def sign(key: Ed25519PrivateKey, position: int, link: bytes) -> Checkpoint:
    """A checkpoint of the chain's head at `position`."""
    signed_at = datetime.now(UTC).isoformat()
    return Checkpoint(
        position=position,
        link=link,
        signed_at=signed_at,
        public_key=public_bytes(key),
        signature=key.sign(message(position, link, signed_at)),
    )


def check(checkpoint: Checkpoint, public_key: bytes) -> bool:
    """True when `public_key` signed the checkpoint (and names it)."""
    if checkpoint.public_key != public_key:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(
            checkpoint.signature, checkpoint.message()
        )
    except InvalidSignature:
        return False
    return True
