"""Errors of the users area."""

from domain.common import DomainError


class InvalidEmail(DomainError):
    slug = "invalid-email"


class WeakPassword(DomainError):
    slug = "weak-password"


class InvalidDisplayName(DomainError):
    slug = "invalid-display-name"


class InvalidRole(DomainError):
    slug = "invalid-role"


class EmailTaken(DomainError):
    slug = "email-taken"


class UserForgotten(DomainError):
    slug = "user-forgotten"
