"""Queries of the shares area: the owner's lists of shares and links."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar
from uuid import UUID

from application import access
from application.auth.principal import Caller, LinkGrant
from application.store import InvalidRequest, TrawlStore
from domain.shares.aggregate import Invitation, ShareLink
from domain.users.aggregate import User

MAX_PAGE = 100
T = TypeVar("T")


@dataclass(frozen=True)
class ShareRow:
    id: UUID
    kind: str  # "share" or "invitation" (pending)
    grantee_id: UUID | None
    role: str
    created_at: datetime
    email: str | None = None


@dataclass(frozen=True)
class LinkRow:
    id: UUID
    role: str
    expires_at: datetime
    created_at: datetime


class SharesView(Protocol):
    def shares(self, project_id: UUID, limit: int, after: UUID | None) -> list[ShareRow]: ...

    def links(self, project_id: UUID, limit: int, after: UUID | None) -> list[LinkRow]: ...


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


class ShareQueries:
    def __init__(self, store: TrawlStore, view: SharesView, policy: access.AccessPolicy) -> None:
        self.store = store
        self.view = view
        self.policy = policy

    def shares(
        self, caller: Caller, project_id: UUID, limit: int = 50, cursor: str | None = None
    ) -> Page[ShareRow]:
        """Shares and pending invitations of a project (owner only), with emails."""
        self.policy.require(caller, project_id, access.OWNER)
        rows = self.view.shares(project_id, _limit(limit) + 1, _cursor(cursor))
        page = [self._with_email(row) for row in rows[:limit]]
        return Page(page, str(rows[limit - 1].id) if len(rows) > limit else None)

    def links(
        self, caller: Caller, project_id: UUID, limit: int = 50, cursor: str | None = None
    ) -> Page[LinkRow]:
        """Share links of a project (owner only), never with their tokens."""
        self.policy.require(caller, project_id, access.OWNER)
        rows = self.view.links(project_id, _limit(limit) + 1, _cursor(cursor))
        return Page(rows[:limit], str(rows[limit - 1].id) if len(rows) > limit else None)

    def _with_email(self, row: ShareRow) -> ShareRow:
        # Emails are personal data: read (decrypted) from the aggregates, not a view.
        if row.kind == "share" and row.grantee_id is not None:
            email = self.store.load(User, row.grantee_id).email
        else:
            email = self.store.load(Invitation, row.id).email
        return ShareRow(row.id, row.kind, row.grantee_id, row.role, row.created_at, email)


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequest(f"limit must be between 1 and {MAX_PAGE}")
    return limit


def _cursor(cursor: str | None) -> UUID | None:
    try:
        return UUID(cursor) if cursor else None
    except ValueError:
        raise InvalidRequest("cursor is not valid") from None


class LinkResolver:
    """Turns a presented `X-Share-Token` into a caller, or None (-> 404/401).

    Strongly consistent: the token's claim and the link's own events decide,
    so a revoked or expired link stops working at once.
    """

    def __init__(self, store: TrawlStore, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.clock = clock

    def caller(self, token: str) -> Caller | None:
        from application.shares.commands import LINK_TOKEN_PREFIX, LINK_TOKEN_SCOPE, token_hash

        if not token.startswith(LINK_TOKEN_PREFIX) or len(token) > 200:
            return None
        link_id = self.store.side.claim_owner(LINK_TOKEN_SCOPE, token_hash(token))
        if link_id is None:
            return None
        link = self.store.load(ShareLink, link_id)
        if not link.is_live(self.clock()):
            return None
        return Caller.share_link(LinkGrant(link.id, link.project_id, link.role))
