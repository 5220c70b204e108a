"""Who is calling: the principal every command and query is given."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from uuid import UUID

from domain.common import Context


@dataclass(frozen=True)
class Caller:
    """An authenticated caller.

    `actor` is the tagged string recorded in events: `user:<id>` for a bearer
    token, `key:<id>` for an API key (acting for its user).
    """

    user_id: UUID
    role: str
    actor: str

    @classmethod
    def user(cls, user_id: UUID, role: str) -> Caller:
        return cls(user_id, role, f"user:{user_id}")

    @classmethod
    def api_key(cls, user_id: UUID, role: str, key_id: UUID) -> Caller:
        return cls(user_id, role, f"key:{key_id}")

    @property
    def principal_key(self) -> str:
        """The scope of idempotency keys: the same for a user's token and keys."""
        return f"user:{self.user_id}"

    def context(self, correlation_id: str | None = None) -> Context:
        return Context(self.actor, correlation_id or uuid.uuid4().hex)

    @property
    def is_auditor(self) -> bool:
        return self.role in ("auditor", "admin")
