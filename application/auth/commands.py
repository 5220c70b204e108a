"""Use cases of authentication: sign in, change password, API keys."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from uuid import UUID

from application import records
from application.auth.errors import InvalidCredentials
from application.auth.principal import Caller
from application.ports import PasswordHasher
from application.store import CommandResult, IdempotencyRequest, NotFound, TrawlStore
from application.users.commands import EMAIL_SCOPE, email_claim
from domain.common import Context
from domain.users import errors as users_errors
from domain.users import values
from domain.users.aggregate import User

API_KEY_PREFIX = "trawl_"


def hash_api_key(raw_key: str) -> str:
    # API keys carry 256 random bits: a fast hash is enough (no dictionary to try).
    return hashlib.sha256(raw_key.encode()).hexdigest()


class AuthService:
    """Sign-in, credentials and the principal behind each request.

    `principal()` runs on every authenticated request, so it is cached for
    `principal_ttl` seconds. A password change or role change made through
    this process takes effect at once; one made by another process (a CLI
    `set-role`, another API replica) within that many seconds.
    """

    def __init__(
        self, store: TrawlStore, hasher: PasswordHasher, principal_ttl: float = 2.0
    ) -> None:
        self.store = store
        self.hasher = hasher
        self.principal_ttl = principal_ttl
        self._principals: dict[UUID, tuple[float, records.Principal | None]] = {}
        # Verified against for unknown emails, so timing does not reveal accounts.
        self._dummy_hash = hasher.hash(secrets.token_urlsafe(16))

    def authenticate(self, email: str, password: str) -> records.Principal:
        """The principal for an email and password, or InvalidCredentials."""
        try:
            claim = email_claim(self.store.vault, email)
        except users_errors.InvalidEmail:
            raise InvalidCredentials("wrong email or password") from None
        owner = self.store.side.claim_owner(EMAIL_SCOPE, claim)
        principal = self.store.side.principal(owner) if owner else None
        hashed = principal.password_hash if principal else self._dummy_hash
        if not self.hasher.verify(hashed, password) or principal is None:
            raise InvalidCredentials("wrong email or password")
        return principal

    def principal(self, user_id: UUID) -> records.Principal | None:
        now = time.monotonic()
        cached = self._principals.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        principal = self.store.side.principal(user_id)
        if len(self._principals) > 10_000:
            self._principals.clear()
        self._principals[user_id] = (now + self.principal_ttl, principal)
        return principal

    def cached_principal(self, user_id: UUID) -> tuple[bool, records.Principal | None]:
        """(hit, principal) from the cache alone: never blocks, safe on an event loop."""
        cached = self._principals.get(user_id)
        if cached is not None and cached[0] > time.monotonic():
            return True, cached[1]
        return False, None

    def forget_principal(self, user_id: UUID) -> None:
        """Drop the cached principal (after its credentials or role changed)."""
        self._principals.pop(user_id, None)

    def caller_for_api_key(self, raw_key: str) -> Caller | None:
        if not raw_key.startswith(API_KEY_PREFIX) or len(raw_key) > 200:
            return None
        row = self.store.side.api_key_by_hash(hash_api_key(raw_key))
        principal = self.store.side.principal(row.user_id) if row else None
        if row is None or principal is None:
            return None
        return Caller.api_key(row.user_id, principal.role, row.key_id)

    def change_password(
        self,
        ctx: Context,
        user_id: UUID,
        current: str,
        new: str,
        idempotency: IdempotencyRequest | None = None,
    ) -> CommandResult:
        """Replace the password; tokens issued before stop working."""
        principal = self.store.side.principal(user_id)
        if principal is None or not self.hasher.verify(principal.password_hash, current):
            raise InvalidCredentials("current password is wrong")
        values.check_password(new)
        user = self.store.load(User, user_id)
        user.record_password_change(ctx)
        side = [records.PasswordSet(user_id, self.hasher.hash(new))]
        result = self.store.commit(user, side=side, idempotency=idempotency)
        self.forget_principal(user_id)
        return result

    def create_api_key(
        self,
        ctx: Context,
        user_id: UUID,
        name: str,
        idempotency: IdempotencyRequest | None = None,
    ) -> CommandResult:
        """A new API key; the key itself is in the answer once, never stored."""
        raw_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        key_id = uuid.uuid4()
        user = self.store.load(User, user_id)
        user.create_api_key(ctx, key_id, name)
        insert = records.ApiKeyInsert(
            key_id, user_id, hash_api_key(raw_key), user.api_keys[key_id], raw_key[:12]
        )
        return self.store.commit(
            user,
            side=[insert],
            idempotency=idempotency,
            extra={
                "key_id": str(key_id),
                "name": insert.name,
                "prefix": insert.prefix,
                "key": raw_key,
            },
            secret_fields=("key",),
        )

    def list_api_keys(self, user_id: UUID) -> list[records.ApiKeyRow]:
        return self.store.side.api_keys(user_id)

    def delete_api_key(
        self,
        ctx: Context,
        user_id: UUID,
        key_id: UUID,
        idempotency: IdempotencyRequest | None = None,
    ) -> CommandResult:
        def command() -> CommandResult:
            user = self.store.load(User, user_id)
            if not user.delete_api_key(ctx, key_id):
                raise NotFound("API key not found")
            return self.store.commit(
                user, side=[records.ApiKeyRemove(key_id)], idempotency=idempotency
            )

        return self.store.retrying(command)
