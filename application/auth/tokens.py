"""Signed, expiring, single-purpose tokens (email verification links).

Stateless: HMAC-SHA256 over (purpose, subject, expiry) with a server secret,
so nothing secret is stored or put in events. Verifying an email twice is
harmless, so single use needs no state either.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from uuid import UUID


class InvalidToken(Exception):
    slug = "invalid-token"


class TokenSigner:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"trawl-signed-token:" + secret.encode()).digest()

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:20]

    def sign(self, purpose: str, subject: UUID, ttl_seconds: int) -> str:
        expires = int(time.time()) + ttl_seconds
        payload = purpose.encode() + b"|" + subject.bytes + expires.to_bytes(8, "big")
        raw = subject.bytes + expires.to_bytes(8, "big") + self._mac(payload)
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def verify(self, purpose: str, token: str) -> UUID:
        """The subject of a valid token; InvalidToken otherwise."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except (ValueError, TypeError):
            raise InvalidToken("token is malformed") from None
        if len(raw) != 16 + 8 + 20:
            raise InvalidToken("token is malformed")
        subject, expires, mac = raw[:16], raw[16:24], raw[24:]
        payload = purpose.encode() + b"|" + subject + expires
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise InvalidToken("token is invalid")
        if int.from_bytes(expires, "big") < time.time():
            raise InvalidToken("token has expired")
        return UUID(bytes=subject)
