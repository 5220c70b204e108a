"""Side records: rows written by the recorder in the same transaction as events.

A command's events and its side records commit or roll back together: the
uniqueness claim on an email, the idempotency record of the HTTP request, a
password hash. They are plain values here; the recorder (Postgres or memory)
knows how to write each kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID


class ClaimConflict(Exception):
    """A uniqueness claim is already held by another owner."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"{scope} already claimed")
        self.scope = scope


class IdempotencyConflict(Exception):
    """Another request with the same idempotency key committed first."""


@dataclass(frozen=True)
class Claim:
    """Claim `value` in `scope` for `owner_id` (unique per scope)."""

    scope: str
    value: str
    owner_id: UUID


@dataclass(frozen=True)
class ReleaseClaim:
    scope: str
    value: str


@dataclass
class IdempotencyRecord:
    """The first answer to a request, replayed for retries with the same key.

    The recorder sets `body["position"]` to the position of the last event
    the request wrote (or the log head when it wrote none) before storing it.
    """

    principal: str
    method: str
    path: str
    key: str
    request_hash: str
    status: int
    body: dict[str, Any]
    created_at: datetime | None = None


@dataclass(frozen=True)
class NewPrincipal:
    """Credentials of a new account (argon2 hash; never in events)."""

    user_id: UUID
    password_hash: str
    role: str = "user"


@dataclass(frozen=True)
class PasswordSet:
    """A new password; bumps the password version, so older tokens die."""

    user_id: UUID
    password_hash: str


@dataclass(frozen=True)
class RoleSet:
    user_id: UUID
    role: str


@dataclass(frozen=True)
class ApiKeyInsert:
    key_id: UUID
    user_id: UUID
    key_hash: str
    name: str
    prefix: str


@dataclass(frozen=True)
class ApiKeyRemove:
    key_id: UUID


@dataclass(frozen=True)
class PrincipalRemove:
    """A forgotten account: its credentials and API keys go (it can no longer sign in)."""

    user_id: UUID


@dataclass(frozen=True)
class Principal:
    """What authentication needs to know about a user, read strongly."""

    user_id: UUID
    role: str
    password_hash: str
    password_version: int


@dataclass(frozen=True)
class ApiKeyRow:
    key_id: UUID
    user_id: UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None = field(default=None)


SideRecord = (
    Claim
    | ReleaseClaim
    | IdempotencyRecord
    | NewPrincipal
    | PasswordSet
    | RoleSet
    | ApiKeyInsert
    | ApiKeyRemove
    | PrincipalRemove
)
