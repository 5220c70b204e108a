"""Bodies of the shares routes.

Roles and lifetimes are checked by the domain (422 with what is wrong); the
caps here only bound the work a request can cause.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from application.shares.queries import LinkRow, ShareRow
from interfaces.http.schemas import CommandAnswer, Email, Schema

Role = Annotated[str, msgspec.Meta(max_length=50)]
Seconds = Annotated[int, msgspec.Meta(ge=-(10**9), le=10**9)]


class Grant(Schema):
    email: Email
    role: Role


class ChangeRole(Schema):
    role: Role


class NewLink(Schema):
    role: Role
    expires_in_seconds: Seconds


class Granted(CommandAnswer):
    """`share` when the address has a verified account, else a mailed `invitation`."""

    kind: str


class LinkCreated(CommandAnswer):
    """The token is shown here once; a replayed answer has `token: null`."""

    token: str | None
    expires_at: datetime
    role: str


class Accepted(CommandAnswer):
    """The new share (`id`), and the project it opens."""

    project_id: UUID


class Share(Schema):
    id: UUID
    kind: str
    grantee_id: UUID | None
    email: str | None
    role: str
    created_at: datetime

    @classmethod
    def of(cls, row: ShareRow) -> Share:
        return cls(
            id=row.id,
            kind=row.kind,
            grantee_id=row.grantee_id,
            email=row.email,
            role=row.role,
            created_at=row.created_at,
        )


class SharePage(Schema):
    items: list[Share]
    next_cursor: str | None


class Link(Schema):
    id: UUID
    role: str
    expires_at: datetime
    created_at: datetime

    @classmethod
    def of(cls, row: LinkRow) -> Link:
        return cls(id=row.id, role=row.role, expires_at=row.expires_at, created_at=row.created_at)


class LinkPage(Schema):
    items: list[Link]
    next_cursor: str | None
