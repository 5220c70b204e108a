"""What a response means for the fetch: errors by status, Retry-After, media type."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from application.ports import FetchError

ACCEPTED_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
REDIRECTS = frozenset({301, 302, 303, 307, 308})


def media_type(content_type: str | None) -> str:
    """The media type without parameters, lower-cased: `text/html; charset=x` -> `text/html`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_media_type(content_type: str | None) -> str:
    """The media type when the fetcher accepts it, else FetchError `content-type`."""
    kind = media_type(content_type)
    if kind not in ACCEPTED_TYPES:
        raise FetchError("content-type", kind or "(none)")
    return kind


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or an HTTP date).

    None when absent or unreadable; a date in the past gives 0.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def status_error(status: int, retry_after: str | None, now: datetime | None = None) -> FetchError:
    """The FetchError for a final response that is neither 2xx nor 304.

    5xx and 429 are transient (429 and 503 carry the server's Retry-After);
    other 4xx are not; anything else (a 3xx without Location, ...) is a bad redirect.
    """
    wait = parse_retry_after(retry_after, now)
    if status == 429:
        return FetchError("http-4xx", "429", transient=True, retry_after=wait)
    if 400 <= status < 500:
        return FetchError("http-4xx", str(status))
    if 500 <= status < 600:
        return FetchError("http-5xx", str(status), transient=True, retry_after=wait)
    return FetchError("bad-redirect", str(status))
