"""Who is calling: the principal every command and query is given."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from uuid import UUID

from application.auth.errors import Forbidden
from domain.common import Context


@dataclass(frozen=True)
class LinkGrant:
    """What a live share link allows: one role on one project."""

    link_id: UUID
    project_id: UUID
    role: str


@dataclass(frozen=True)
class Caller:
    """An authenticated caller.

    `actor` is the tagged string recorded in events: `user:<id>` for a bearer
    token, `key:<id>` for an API key (acting for its user), `link:<id>` for
    the holder of a share link (who has no account: `user_id` is None).
    """

    user_id: UUID | None
    role: str
    actor: str
    link: LinkGrant | None = None

    @classmethod
    def user(cls, user_id: UUID, role: str) -> Caller:
        return cls(user_id, role, f"user:{user_id}")

    @classmethod
    def api_key(cls, user_id: UUID, role: str, key_id: UUID) -> Caller:
        return cls(user_id, role, f"key:{key_id}")

    @classmethod
    def share_link(cls, grant: LinkGrant) -> Caller:
        return cls(None, "link", f"link:{grant.link_id}", grant)

    @property
    def principal_key(self) -> str:
        """Grants and idempotency keys are scoped by this: a user's token and
        API keys share it; a link holder has the link's."""
        if self.user_id is None:
            return self.actor
        return f"user:{self.user_id}"

    @property
    def account(self) -> UUID:
        """The caller's account id; Forbidden for share-link holders."""
        if self.user_id is None:
            raise Forbidden("this needs a signed-in account, not a share link")
        return self.user_id

    def context(self, correlation_id: str | None = None) -> Context:
        return Context(self.actor, correlation_id or uuid.uuid4().hex)

    @property
    def is_auditor(self) -> bool:
        return self.role in ("auditor", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
