"""Errors of the projects area."""

from domain.common import DomainError


class InvalidName(DomainError):
    slug = "invalid-name"


class InvalidDescription(DomainError):
    slug = "invalid-description"


class ProjectArchived(DomainError):
    """The project is read-only until restored (HTTP 409)."""

    slug = "project-archived"


class ProjectNotArchived(DomainError):
    slug = "project-not-archived"


class ProjectDeleted(DomainError):
    """Deletion is terminal; the project answers 404 from then on."""

    slug = "not-found"


class InvalidSettings(DomainError):
    slug = "invalid-settings"
