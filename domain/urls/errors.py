"""Errors of the urls area.

A refused URL names one stable `reason` code: the bulk-add answer shows it per
URL (`{"url": ..., "status": "rejected", "reason": "not-http"}`), so the codes
are part of the HTTP contract and never change meaning.
"""

from typing import ClassVar

from domain.common import DomainError


class InvalidUrl(DomainError):
    """The URL cannot be added; `reason` is the code shown to the client."""

    slug = "invalid-url"
    reason: ClassVar[str] = "unparsable"


class UrlNotHttp(InvalidUrl):
    """No scheme, or a scheme other than http / https."""

    reason = "not-http"


class UrlTooLong(InvalidUrl):
    """Longer than the limit, before or after normalizing."""

    reason = "too-long"


class UrlWithCredentials(InvalidUrl):
    """A user name (and maybe a password) before the host: never stored."""

    reason = "credentials"


class UrlUnparsable(InvalidUrl):
    """No host, a bad port or host name, control characters, ..."""

    reason = "unparsable"


REJECTION_REASONS = tuple(
    cls.reason for cls in (UrlNotHttp, UrlTooLong, UrlWithCredentials, UrlUnparsable)
)
