"""Use cases of the shares area: grants, invitations, links, leaving.

A grant names an email. It applies at once to the account that has VERIFIED
that email; otherwise it becomes an invitation, mailed with a single-use
token that only a signed-in account with that verified email can accept.
One grant per (project, person) is a uniqueness claim in the recorder.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from uuid import UUID

from application import access, records
from application.auth.principal import Caller
from application.ports import Mailer, MailMessage
from application.store import CommandResult, IdempotencyRequest, NotFound, TrawlStore
from application.users.commands import EMAIL_SCOPE, email_claim
from domain.projects.aggregate import Project
from domain.shares import errors as shares_errors
from domain.shares.aggregate import Invitation, Share, ShareLink
from domain.users import values as users_values
from domain.users.aggregate import User

log = logging.getLogger(__name__)

SHARE_SCOPE, INVITED_SCOPE = "share", "invitation"
INVITATION_TOKEN_SCOPE, LINK_TOKEN_SCOPE = "invitation-token", "link-token"
LINK_TOKEN_PREFIX = "tsl_"  # noqa: S105 - a prefix, not a secret
Clock = Callable[[], datetime]


def token_hash(token: str) -> str:
    # Tokens carry 256 random bits: a fast hash cannot be reversed by guessing.
    return hashlib.sha256(token.encode()).hexdigest()


def _share_claim(project_id: UUID, user_id: UUID, share_id: UUID) -> records.Claim:
    return records.Claim(SHARE_SCOPE, f"{project_id}:{user_id}", share_id)


class ShareCommands:
    def __init__(
        self,
        store: TrawlStore,
        policy: access.AccessPolicy,
        mailer: Mailer,
        base_url: str,
        clock: Clock = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.policy = policy
        self.mailer = mailer
        self.base_url = base_url.rstrip("/")
        self.clock = clock

    def _owned_project(self, caller: Caller, project_id: UUID) -> Project:
        """The project, when the caller owns it and it is writable (404/403/409)."""
        project = self.store.load(Project, project_id)
        known = access.ProjectAccess(project.owner_id, project.status)
        self.policy.require(caller, project_id, access.OWNER, known)
        project.check_writable()
        return project

    def grant(
        self,
        caller: Caller,
        project_id: UUID,
        email: str,
        role: str,
        idempotency: IdempotencyRequest | None = None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        """Share with a verified account, or invite the address (mailed token)."""
        project = self._owned_project(caller, project_id)
        email = users_values.normalize_email(email)
        claim = email_claim(self.store.vault, email)
        user_id = self.store.side.claim_owner(EMAIL_SCOPE, claim)
        ctx = caller.context(correlation_id)
        if user_id == project.owner_id:
            raise shares_errors.OwnerCannotBeGranted("the owner already has every right")
        if user_id is not None and self.store.load(User, user_id).email_verified:
            share = Share.grant(ctx, uuid.uuid4(), project_id, project.owner_id, user_id, role)
            side = [_share_claim(project_id, user_id, share.id)]
            return self._commit_claims(share, side, idempotency, {"kind": "share"})
        token = secrets.token_urlsafe(32)
        invitation = Invitation.invite(
            ctx, uuid.uuid4(), project_id, email, role, token_hash(token)
        )
        side = [
            records.Claim(INVITED_SCOPE, f"{project_id}:{claim}", invitation.id),
            records.Claim(INVITATION_TOKEN_SCOPE, token_hash(token), invitation.id),
        ]
        result = self._commit_claims(invitation, side, idempotency, {"kind": "invitation"})
        self._mail_invitation(email, project.name, role, token)
        return result

    def _commit_claims(
        self,
        aggregate: Share | Invitation,
        side: Sequence[records.SideRecord],
        idempotency: IdempotencyRequest | None,
        extra: dict[str, object],
    ) -> CommandResult:
        try:
            return self.store.commit(aggregate, side=side, idempotency=idempotency, extra=extra)
        except records.ClaimConflict:
            raise shares_errors.AlreadyShared(
                "the project is already shared with this email (or invited)"
            ) from None

    def _mail_invitation(self, email: str, project_name: str, role: str, token: str) -> None:
        body = (
            f'You were invited to the Trawl project "{project_name}" as {role}.\n\n'
            "Sign in with an account whose verified email is this address and send"
            f" POST {self.base_url}/api/v1/invitations/{{token}}/accept with this token:\n\n"
            f"{token}\n"
        )
        try:
            self.mailer.send(MailMessage(email, "You were invited to a Trawl project", body))
        except Exception:
            log.exception("invitation mail failed; the owner can revoke and invite again")

    def _load_share(self, caller: Caller, share_id: UUID) -> Share | Invitation:
        """A share or pending invitation of a project the caller owns."""
        try:
            item: Share | Invitation = self.store.load(Share, share_id)
        except NotFound:
            item = self.store.load(Invitation, share_id)
        self._owned_project(caller, item.project_id)
        return item

    def change_role(
        self,
        caller: Caller,
        share_id: UUID,
        role: str,
        idempotency: IdempotencyRequest | None = None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        def command() -> CommandResult:
            item = self._load_share(caller, share_id)
            item.change_role(caller.context(correlation_id), role)
            return self.store.commit(item, idempotency=idempotency)

        return self.store.retrying(command)

    def revoke(
        self,
        caller: Caller,
        share_id: UUID,
        idempotency: IdempotencyRequest | None = None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        """End a share or withdraw an invitation; twice changes nothing (200)."""

        def command() -> CommandResult:
            item = self._load_share(caller, share_id)
            side: list[records.SideRecord] = []
            if item.revoke(caller.context(correlation_id)):
                side = self._releases(item)
            return self.store.commit(item, side=side, idempotency=idempotency)

        return self.store.retrying(command)

    def _releases(self, item: Share | Invitation) -> list[records.SideRecord]:
        if isinstance(item, Share):
            return [records.ReleaseClaim(SHARE_SCOPE, f"{item.project_id}:{item.grantee_id}")]
        claim = email_claim(self.store.vault, item.email) if item.email else None
        releases: list[records.SideRecord] = [
            records.ReleaseClaim(INVITATION_TOKEN_SCOPE, item.token_hash)
        ]
        if claim:
            releases.append(records.ReleaseClaim(INVITED_SCOPE, f"{item.project_id}:{claim}"))
        return releases

    def leave(
        self,
        caller: Caller,
        project_id: UUID,
        idempotency: IdempotencyRequest | None = None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        """The grantee gives up their share of a project (a command: 404 once the
        project is deleted, 409 while it is archived)."""
        user_id = caller.account
        share_id = self.store.side.claim_owner(SHARE_SCOPE, f"{project_id}:{user_id}")
        if share_id is None:
            raise NotFound("project not found")

        def command() -> CommandResult:
            self.store.load(Project, project_id).check_writable()
            share = self.store.load(Share, share_id)
            side = self._releases(share) if share.leave(caller.context(correlation_id)) else []
            return self.store.commit(share, side=side, idempotency=idempotency)

        return self.store.retrying(command)

    def accept(
        self,
        caller: Caller,
        token: str,
        idempotency: IdempotencyRequest | None = None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        """Accept an invitation: the caller's verified email must be the invited one."""
        user_id = caller.account
        invitation_id = self.store.side.claim_owner(INVITATION_TOKEN_SCOPE, token_hash(token))
        if invitation_id is None:
            raise shares_errors.InvitationClosed("invitation not found")
        invitation = self.store.load(Invitation, invitation_id)
        user = self.store.load(User, user_id)
        ctx = caller.context(correlation_id)
        share_id = uuid.uuid4()
        # The addressee check first: anyone else learns nothing about the project.
        invitation.accept(ctx, user_id, (user.email or "") if user.email_verified else "", share_id)
        project = self.store.load(Project, invitation.project_id)
        project.check_writable()
        share = Share.grant(
            ctx,
            share_id,
            project.id,
            project.owner_id,
            user_id,
            invitation.role,
            invitation_id=invitation.id,
        )
        side = [_share_claim(project.id, user_id, share.id), *self._releases(invitation)]
        try:
            return self.store.commit(
                invitation,
                share,
                side=side,
                idempotency=idempotency,
                result_of=share,
                extra={"project_id": str(project.id)},
            )
        except records.ClaimConflict:
            raise shares_errors.AlreadyShared("you already have a share of this project") from None

    def create_link(
        self,
        caller: Caller,
        project_id: UUID,
        role: str,
        expires_in_seconds: int,
        idempotency: IdempotencyRequest | None = None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        """A share link; its token is in this answer once and stored only hashed."""
        self._owned_project(caller, project_id)
        token = LINK_TOKEN_PREFIX + secrets.token_urlsafe(32)
        link = ShareLink.create(
            caller.context(correlation_id),
            uuid.uuid4(),
            project_id,
            role,
            self.clock(),
            expires_in_seconds,
            token_hash(token),
        )
        return self.store.commit(
            link,
            side=[records.Claim(LINK_TOKEN_SCOPE, token_hash(token), link.id)],
            idempotency=idempotency,
            extra={"token": token, "expires_at": link.expires_at.isoformat(), "role": role},
            secret_fields=("token",),
        )

    def revoke_link(
        self,
        caller: Caller,
        project_id: UUID,
        link_id: UUID,
        idempotency: IdempotencyRequest | None = None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        def command() -> CommandResult:
            link = self.store.load(ShareLink, link_id)
            if link.project_id != project_id:
                raise NotFound("share link not found")
            self._owned_project(caller, project_id)
            side: list[records.SideRecord] = []
            if link.revoke(caller.context(correlation_id)):
                side = [records.ReleaseClaim(LINK_TOKEN_SCOPE, link.token_hash)]
            return self.store.commit(link, side=side, idempotency=idempotency)

        return self.store.retrying(command)
