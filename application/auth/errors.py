"""Errors of authentication."""

from domain.common import DomainError


class InvalidCredentials(DomainError):
    slug = "invalid-credentials"


class Forbidden(DomainError):
    slug = "forbidden"
