"""Shares: grants to people, invitations to addresses, links with a role.

- `Share`: a role (viewer/editor) for one account on one project; ends when
  revoked by the owner or left by the grantee (terminal).
- `Invitation`: a grant to an email with no verified account; the mailed
  token is single use; accepting creates the Share. The email is personal
  data, encrypted with the invitation's own key.
- `ShareLink`: a role for whoever holds a token, until it expires or is
  revoked. Only the token's hash is kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from domain.common import Context, TrawlAggregate
from domain.shares import errors, values

ACTIVE, ENDED = "active", "ended"


class Share(TrawlAggregate):
    TOPIC = "trawl:share"

    class Created(TrawlAggregate.Created):
        TOPIC = "trawl:share.created"
        project_id: UUID
        grantee_id: UUID
        role: str
        invitation_id: UUID | None

    class RoleChanged(TrawlAggregate.Event):
        TOPIC = "trawl:share.role_changed"
        role: str

        def apply(self, aggregate: Share) -> None:
            aggregate.role = self.role

    class Revoked(TrawlAggregate.Event):
        TOPIC = "trawl:share.revoked"

        def apply(self, aggregate: Share) -> None:
            aggregate.status = ENDED

    class Left(TrawlAggregate.Event):
        TOPIC = "trawl:share.left"

        def apply(self, aggregate: Share) -> None:
            aggregate.status = ENDED

    def __init__(
        self, project_id: UUID, grantee_id: UUID, role: str, invitation_id: UUID | None, **_: object
    ) -> None:
        self.project_id = project_id
        self.grantee_id = grantee_id
        self.role = role
        self.invitation_id = invitation_id
        self.status = ACTIVE

    @classmethod
    def grant(
        cls,
        ctx: Context,
        share_id: UUID,
        project_id: UUID,
        owner_id: UUID,
        grantee_id: UUID,
        role: str,
        invitation_id: UUID | None = None,
    ) -> Share:
        values.check_role(role)
        if grantee_id == owner_id:
            raise errors.OwnerCannotBeGranted("the owner already has every right")
        return cls._create(
            cls.Created,
            id=share_id,
            project_id=project_id,
            grantee_id=grantee_id,
            role=role,
            invitation_id=invitation_id,
            **ctx.fields(),
        )

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE

    def change_role(self, ctx: Context, role: str) -> bool:
        values.check_role(role)
        if not self.is_active:
            raise errors.ShareEnded("share not found")
        if role == self.role:
            return False
        self._emit(self.RoleChanged, ctx, role=role)
        return True

    def revoke(self, ctx: Context) -> bool:
        """End the share; False (no event) when it already ended."""
        if not self.is_active:
            return False
        self._emit(self.Revoked, ctx)
        return True

    def leave(self, ctx: Context) -> bool:
        if not self.is_active:
            return False
        self._emit(self.Left, ctx)
        return True


class Invitation(TrawlAggregate):
    TOPIC = "trawl:invitation"

    class Created(TrawlAggregate.Created):
        TOPIC = "trawl:invitation.created"
        personal_fields: ClassVar[tuple[str, ...]] = ("email",)
        project_id: UUID
        email: str
        role: str
        token_hash: str

    class Accepted(TrawlAggregate.Event):
        TOPIC = "trawl:invitation.accepted"
        user_id: UUID
        share_id: UUID

        def apply(self, aggregate: Invitation) -> None:
            aggregate.status = "accepted"

    class Revoked(TrawlAggregate.Event):
        TOPIC = "trawl:invitation.revoked"

        def apply(self, aggregate: Invitation) -> None:
            aggregate.status = "revoked"

    class RoleChanged(TrawlAggregate.Event):
        TOPIC = "trawl:invitation.role_changed"
        role: str

        def apply(self, aggregate: Invitation) -> None:
            aggregate.role = self.role

    def __init__(
        self, project_id: UUID, email: str, role: str, token_hash: str, **_: object
    ) -> None:
        self.project_id = project_id
        self.email = email
        self.role = role
        self.token_hash = token_hash
        self.status = "pending"

    @classmethod
    def invite(
        cls,
        ctx: Context,
        invitation_id: UUID,
        project_id: UUID,
        email: str,
        role: str,
        token_hash: str,
    ) -> Invitation:
        values.check_role(role)
        return cls._create(
            cls.Created,
            id=invitation_id,
            project_id=project_id,
            email=email,
            role=role,
            token_hash=token_hash,
            **ctx.fields(),
        )

    @property
    def is_pending(self) -> bool:
        return self.status == "pending"

    def accept(self, ctx: Context, user_id: UUID, verified_email: str, share_id: UUID) -> None:
        if not self.is_pending:
            raise errors.InvitationClosed("invitation not found")
        if self.email is None or verified_email != self.email:
            raise errors.EmailMismatch("this invitation is for another verified email")
        self._emit(self.Accepted, ctx, user_id=user_id, share_id=share_id)

    def change_role(self, ctx: Context, role: str) -> bool:
        values.check_role(role)
        if not self.is_pending:
            raise errors.InvitationClosed("invitation not found")
        if role == self.role:
            return False
        self._emit(self.RoleChanged, ctx, role=role)
        return True

    def revoke(self, ctx: Context) -> bool:
        if not self.is_pending:
            return False
        self._emit(self.Revoked, ctx)
        return True


class ShareLink(TrawlAggregate):
    TOPIC = "trawl:share_link"

    class Created(TrawlAggregate.Created):
        TOPIC = "trawl:share_link.created"
        project_id: UUID
        role: str
        expires_at: datetime
        token_hash: str

    class Revoked(TrawlAggregate.Event):
        TOPIC = "trawl:share_link.revoked"

        def apply(self, aggregate: ShareLink) -> None:
            aggregate.revoked = True

    def __init__(
        self, project_id: UUID, role: str, expires_at: datetime, token_hash: str, **_: object
    ) -> None:
        self.project_id = project_id
        self.role = role
        self.expires_at = expires_at
        self.token_hash = token_hash
        self.revoked = False

    @classmethod
    def create(
        cls,
        ctx: Context,
        link_id: UUID,
        project_id: UUID,
        role: str,
        now: datetime,
        lifetime_seconds: int,
        token_hash: str,
    ) -> ShareLink:
        values.check_role(role)
        expires_at = now + values.check_lifetime(lifetime_seconds)
        return cls._create(
            cls.Created,
            id=link_id,
            project_id=project_id,
            role=role,
            expires_at=expires_at,
            token_hash=token_hash,
            **ctx.fields(),
        )

    def is_live(self, now: datetime) -> bool:
        return not self.revoked and now < self.expires_at

    def revoke(self, ctx: Context) -> bool:
        if self.revoked:
            return False
        self._emit(self.Revoked, ctx)
        return True
