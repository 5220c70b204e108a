from datetime import UTC, datetime

import pytest

from application.ports import FetchError
from infrastructure.fetching import responses

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("Thu, 01 Jan 2026 12:01:30 GMT", 90.0),
        ("Thursday, 01-Jan-26 12:00:10 GMT", 10.0),
        ("Wed, 31 Dec 2025 12:00:00 GMT", 0.0),  # in the past: retry now
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value: str | None, seconds: float | None) -> None:
    assert responses.parse_retry_after(value, NOW) == seconds


@pytest.mark.parametrize(
    ("status", "reason", "transient"),
    [
        (400, "http-4xx", False),
        (401, "http-4xx", False),
        (403, "http-4xx", False),
        (404, "http-4xx", False),
        (410, "http-4xx", False),
        (429, "http-4xx", True),
        (500, "http-5xx", True),
        (502, "http-5xx", True),
        (503, "http-5xx", True),
        (300, "bad-redirect", False),
    ],
)
def test_statuses_are_classified(status: int, reason: str, transient: bool) -> None:
    error = responses.status_error(status, None, NOW)

    assert (error.reason, error.transient) == (reason, transient)


def test_429_carries_the_servers_wait() -> None:
    assert responses.status_error(429, "7", NOW).retry_after == 7.0


def test_503_carries_the_servers_wait_as_a_date() -> None:
    error = responses.status_error(503, "Thu, 01 Jan 2026 12:00:30 GMT", NOW)

    assert error.retry_after == 30.0


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("text/html", "text/html"),
        ("text/html; charset=ISO-8859-1", "text/html"),
        ("TEXT/HTML;charset=utf-8", "text/html"),
        ("application/xhtml+xml", "application/xhtml+xml"),
        ("text/plain; charset=utf-8", "text/plain"),
    ],
)
def test_page_media_types_are_accepted_without_parameters(header: str, kind: str) -> None:
    assert responses.check_media_type(header) == kind


@pytest.mark.parametrize("header", ["image/png", "application/pdf", "application/json", "", None])
def test_other_media_types_are_refused(header: str | None) -> None:
    with pytest.raises(FetchError) as caught:
        responses.check_media_type(header)

    assert (caught.value.reason, caught.value.transient) == ("content-type", False)
