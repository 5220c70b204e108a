"""Queries of the users area."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from application.store import TrawlStore
from domain.users.aggregate import User


@dataclass(frozen=True)
class Me:
    id: UUID
    email: str | None
    display_name: str | None
    role: str
    email_verified: bool
    created_at: datetime
    version: int


class UserQueries:
    def __init__(self, store: TrawlStore) -> None:
        self.store = store

    def me(self, user_id: UUID) -> Me:
        """The caller's own account, decrypted (the aggregate is the source)."""
        user = self.store.load(User, user_id)
        return Me(
            id=user.id,
            email=user.email,
            display_name=user.display_name,
            role=user.role,
            email_verified=user.email_verified,
            created_at=user.created_on,
            version=user.version,
        )
