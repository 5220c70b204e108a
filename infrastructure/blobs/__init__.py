"""BlobStore adapters: a local directory (default) here, S3 in infrastructure/aws.

Both share the key scheme below: `<kind>/sha256/<hex[:2]>/<hex>`. Keys are
checked against it in full, so a key can never name anything but a blob
(no `..`, no absolute path, no stray object under the same prefix).
"""

from __future__ import annotations

import hashlib
import re

from application.ports import BlobCorrupted, BlobRef

_KIND = re.compile(r"[a-z0-9-]{1,32}")
_KEY = re.compile(r"(?P<kind>[a-z0-9-]{1,32})/sha256/(?P<fan>[0-9a-f]{2})/(?P<hex>[0-9a-f]{64})")


def blob_ref(data: bytes, kind: str) -> BlobRef:
    """The reference `data` gets when stored as `kind` (nothing is written)."""
    if not _KIND.fullmatch(kind):
        raise ValueError(f"blob kind must match [a-z0-9-]{{1,32}}, got {kind!r}")
    digest = hashlib.sha256(data).hexdigest()
    return BlobRef(key=f"{kind}/sha256/{digest[:2]}/{digest}", sha256=digest, size=len(data))


def is_key(key: str) -> bool:
    """Whether `key` has the exact form `put` gives its keys."""
    match = _KEY.fullmatch(key)
    return match is not None and match["hex"].startswith(match["fan"])


def key_digest(key: str) -> str:
    """The SHA-256 (hex) a key names; ValueError for anything that is not a blob key."""
    if not is_key(key):
        raise ValueError(f"not a blob key: {key!r}")
    return key.rpartition("/")[2]


def verified(key: str, data: bytes) -> bytes:
    """`data` when it hashes to what `key` names; BlobCorrupted otherwise."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != key_digest(key):
        raise BlobCorrupted(f"blob {key} holds {len(data)} bytes hashing to {actual}")
    return data
