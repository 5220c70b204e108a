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


class UrlRemoved(DomainError):
    """The URL was removed: it stays readable, but only `revive` changes it."""

    slug = "url-removed"


class UrlAlreadyLive(DomainError):
    """Reviving (adding again) a URL that was never removed."""

    slug = "duplicate"


class StaleLease(DomainError):
    """A worker's outcome names a lease that is not the current fetch's (a late worker)."""

    slug = "stale-lease"


class FetchNotScheduled(DomainError):
    """A fetch can start only when one is scheduled (or to take over a running one)."""

    slug = "fetch-not-scheduled"


class StaleVersion(DomainError):
    """Text or chunks for a content version that is no longer the current one."""

    slug = "stale-version"


class TextNotExtracted(DomainError):
    """Chunks for a version whose text was not extracted."""

    slug = "text-not-extracted"


class InvalidChunks(DomainError):
    slug = "invalid-chunks"


class InvalidScheduleReason(DomainError):
    slug = "invalid-schedule-reason"


class InvalidFailureReason(DomainError):
    slug = "invalid-failure-reason"


class InvalidAttempt(DomainError):
    """An attempt number below 1, or not the one the lease was started with."""

    slug = "invalid-attempt"


class NaiveTime(DomainError):
    slug = "naive-time"


class RetryTimeMissing(DomainError):
    """A transient failure with attempts left needs the time of the next attempt."""

    slug = "retry-time-missing"
