"""Errors of the shares area."""

from domain.common import DomainError


class InvalidShareRole(DomainError):
    slug = "invalid-role"


class InvalidExpiry(DomainError):
    slug = "invalid-expiry"


class OwnerCannotBeGranted(DomainError):
    """The owner already holds every right on the project."""

    slug = "owner-cannot-be-granted"


class AlreadyShared(DomainError):
    """The project is already shared with this person (or invited)."""

    slug = "already-shared"


class ShareEnded(DomainError):
    """The share was revoked or left: it answers 404 from then on."""

    slug = "not-found"


class InvitationClosed(DomainError):
    """Accepted, revoked or unknown: the token no longer works."""

    slug = "not-found"


class EmailMismatch(DomainError):
    """The invitation was sent to another address than the caller's verified one."""

    slug = "invitation-email-mismatch"
