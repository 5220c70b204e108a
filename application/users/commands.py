"""Use cases of the users area: register, verify the email, set a role."""

from __future__ import annotations

import logging
import uuid
from uuid import UUID

from application import records
from application.auth.errors import Forbidden
from application.auth.principal import Caller
from application.auth.tokens import TokenSigner
from application.ports import KeyVault, Mailer, MailMessage, PasswordHasher
from application.store import CommandResult, IdempotencyRequest, NotFound, TrawlStore
from domain.common import Context
from domain.users import errors as users_errors
from domain.users import values
from domain.users.aggregate import User

log = logging.getLogger(__name__)

# The subject whose vault key peppers the email claim digests (never forgotten).
EMAIL_CLAIM_SUBJECT = uuid.UUID("9b1d7a8e-3c1f-4f2a-8a4e-6f3f5d2c1b00")
EMAIL_SCOPE = "email"
VERIFY_PURPOSE = "verify-email"
VERIFY_TTL_SECONDS = 3 * 86400


def email_claim(vault: KeyVault, email: str) -> str:
    """The claim value of an email: a keyed hash, never the address itself."""
    return vault.digest(EMAIL_CLAIM_SUBJECT, values.normalize_email(email))


class UserCommands:
    def __init__(
        self,
        store: TrawlStore,
        hasher: PasswordHasher,
        mailer: Mailer,
        signer: TokenSigner,
        base_url: str,
    ) -> None:
        self.store = store
        self.hasher = hasher
        self.mailer = mailer
        self.signer = signer
        self.base_url = base_url.rstrip("/")

    def register(
        self,
        ctx: Context,
        email: str,
        password: str,
        display_name: str,
        idempotency: IdempotencyRequest | None = None,
    ) -> CommandResult:
        """Create an account (role `user`) and mail a verification link."""
        values.check_password(password)
        user = User.register(ctx, uuid.uuid4(), email, display_name)
        claim = records.Claim(EMAIL_SCOPE, email_claim(self.store.vault, user.email or ""), user.id)
        principal = records.NewPrincipal(user.id, self.hasher.hash(password))
        try:
            result = self.store.commit(user, side=[claim, principal], idempotency=idempotency)
        except records.ClaimConflict:
            raise users_errors.EmailTaken("an account with this email exists") from None
        self.send_verification(user.id)
        return result

    def send_verification(self, user_id: UUID) -> bool:
        """Mail a verification link; False when the mail could not be sent."""
        user = self.store.load(User, user_id)
        if user.email is None or user.email_verified:
            return False
        token = self.signer.sign(VERIFY_PURPOSE, user.id, VERIFY_TTL_SECONDS)
        message = MailMessage(
            to=user.email,
            subject="Verify your email for Trawl",
            body=(
                f"Hello {user.display_name},\n\n"
                "confirm this address by sending this token to"
                f" POST {self.base_url}/api/v1/auth/verify-email:\n\n{token}\n\n"
                f"It expires in {VERIFY_TTL_SECONDS // 86400} days.\n"
            ),
        )
        try:
            self.mailer.send(message)
        except Exception:
            log.exception("verification mail to user %s failed", user.id)
            return False
        return True

    def verify_email(
        self, ctx: Context, token: str, idempotency: IdempotencyRequest | None = None
    ) -> CommandResult:
        """Mark the token's account verified (a second use changes nothing)."""
        user_id = self.signer.verify(VERIFY_PURPOSE, token)

        def command() -> CommandResult:
            user = self.store.load(User, user_id)
            user.verify_email(ctx)
            return self.store.commit(user, idempotency=idempotency)

        return self.store.retrying(command)

    def set_role(self, ctx: Context, email_or_id: str, role: str) -> CommandResult:
        """Give an account a role (`user`, `auditor`, `admin`): an event too."""
        values.check_role(role)
        user_id = self.find(email_or_id)

        def command() -> CommandResult:
            user = self.store.load(User, user_id)
            side = [records.RoleSet(user.id, role)] if user.change_role(ctx, role) else []
            return self.store.commit(user, side=side)

        return self.store.retrying(command)

    def forget_as(
        self,
        caller: Caller,
        user_id: UUID,
        idempotency: IdempotencyRequest | None = None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        """`forget` on behalf of a caller, who must be an admin."""
        if not caller.is_admin:
            raise Forbidden("forgetting a person is for admins")
        return self.forget(caller.context(correlation_id), str(user_id), idempotency)

    def forget(
        self, ctx: Context, email_or_id: str, idempotency: IdempotencyRequest | None = None
    ) -> CommandResult:
        """Forget a person: a `Forgotten` event, then their key is deleted.

        Their personal fields read as erased everywhere from then on (history,
        views, the event stream), without rewriting any event; the email's
        claim, the credentials and the API keys go with the event. Running it
        again (e.g. after a failure between the two steps) deletes the key.
        """
        user_id = self.find(email_or_id)

        def command() -> CommandResult:
            user = self.store.load(User, user_id)
            email = user.email
            side: list[records.SideRecord] = []
            if user.forget(ctx):
                side.append(records.PrincipalRemove(user.id))
                if email is not None:
                    claim = email_claim(self.store.vault, email)
                    side.append(records.ReleaseClaim(EMAIL_SCOPE, claim))
            return self.store.commit(user, side=side, idempotency=idempotency)

        result = self.store.retrying(command)
        self.store.vault.forget(user_id)
        return result

    def find(self, email_or_id: str) -> UUID:
        """An account by id or by email; NotFound otherwise."""
        try:
            user_id = UUID(email_or_id)
        except ValueError:
            owner = self.store.side.claim_owner(
                EMAIL_SCOPE, email_claim(self.store.vault, email_or_id)
            )
            if owner is None:
                raise NotFound("no account with this email") from None
            return owner
        self.store.load(User, user_id)
        return user_id
