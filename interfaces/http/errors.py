"""Every error answer is RFC 9457 problem+json: `{type, title, status, detail}`.

`type` is the relative URI `/problems/<slug>`. Application and domain errors
carry their slug; the table below gives their status. Anything unexpected is
a 500 `internal-error` that is logged here and reveals nothing.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import msgspec
import psycopg
from eventsourcing import persistence
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    ValidationException,
)

from application import records
from application.auth import errors as auth_errors
from application.auth import tokens
from application.projects import commands as projects_commands
from application.store import InvalidRequest, NotFound, VersionConflict
from application.vectorization.ports import EmbeddingFailed
from domain.common import DomainError
from domain.projects import errors as projects_errors
from domain.shares import errors as shares_errors
from domain.urls import errors as urls_errors
from domain.users import errors as users_errors
from interfaces.http.correlation import HEADER as REQUEST_ID_HEADER
from interfaces.http.correlation import request_id
from interfaces.http.schemas import Problem

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"

# First match wins: subclasses before their bases. The slug is the error's
# own `slug` attribute, else the one given here.
STATUS_OF: tuple[tuple[type[Exception], int, str], ...] = (
    (projects_commands.PreconditionFailed, 412, "version-conflict"),
    (VersionConflict, 409, "version-conflict"),
    (persistence.IntegrityError, 409, "version-conflict"),
    (records.ClaimConflict, 409, "conflict"),
    (NotFound, 404, "not-found"),
    (auth_errors.Forbidden, 403, "forbidden"),
    (auth_errors.InvalidCredentials, 401, "invalid-credentials"),
    (tokens.InvalidToken, 400, "invalid-token"),
    (InvalidRequest, 400, "invalid-request"),
    (projects_errors.ProjectDeleted, 404, "not-found"),
    (projects_errors.ProjectArchived, 409, "project-archived"),
    (projects_errors.ProjectNotArchived, 409, "project-not-archived"),
    (urls_errors.UrlRemoved, 409, "url-removed"),
    (users_errors.EmailTaken, 409, "email-taken"),
    (shares_errors.ShareEnded, 404, "not-found"),
    (shares_errors.InvitationClosed, 404, "not-found"),
    (shares_errors.EmailMismatch, 403, "invitation-email-mismatch"),
    (shares_errors.AlreadyShared, 409, "already-shared"),
    # InvalidShareRole, InvalidExpiry, OwnerCannotBeGranted: 422, as any DomainError.
    (DomainError, 422, "invalid-command"),
)

UNAVAILABLE = (psycopg.OperationalError, persistence.OperationalError)

SLUG_OF_STATUS = {
    400: "invalid-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    429: "rate-limited",
}


class HttpProblem(Exception):
    """An error the HTTP layer itself detects (a bad header, a timeout)."""

    def __init__(
        self, status: int, slug: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.slug, self.detail, self.headers = status, slug, detail, headers or {}


def problem(
    request: Request[Any, Any, Any],
    status: int,
    slug: str,
    detail: str,
    headers: dict[str, str] | None = None,
    errors: list[dict[str, str]] | None = None,
) -> Response[Problem]:
    """A problem+json answer."""
    body = Problem(
        type=f"/problems/{slug}",
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        errors=msgspec.UNSET if errors is None else errors,
    )
    return Response(
        body,
        status_code=status,
        media_type=MEDIA_TYPE,
        headers={**(headers or {}), REQUEST_ID_HEADER: request_id(request.scope)},
    )


def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    """The one exception handler of the app (registered for `Exception`)."""
    if isinstance(exc, HttpProblem):
        return problem(request, exc.status, exc.slug, exc.detail, exc.headers)
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        return _http_problem(request, exc)
    for cls, status, default_slug in STATUS_OF:
        if isinstance(exc, cls):
            slug = getattr(exc, "slug", None) or default_slug
            return problem(request, status, slug, str(exc) or HTTPStatus(status).phrase)
    if isinstance(exc, EmbeddingFailed):
        # A search's query could not be embedded (the model's service throttled
        # past its retries, down, or answering nonsense): text mode still works.
        # The reason is logged, not answered: an adapter's error text may name
        # server paths.
        log.warning("%s %s: embedder failed (%s)", request.method, request.url.path, exc.reason)
        return problem(
            request,
            503,
            "embedder-unavailable",
            "the project's embedding model did not answer; retry later, or search with mode=text",
            {"Retry-After": "5"},
        )
    if isinstance(exc, UNAVAILABLE):
        # The class only: driver messages may name hosts and users.
        log.warning(
            "%s %s: database unavailable (%s)", request.method, request.url.path, type(exc).__name__
        )
        return problem(request, 503, "unavailable", "a dependency is unavailable; retry later")
    log.error(
        "%s %s failed (request %s)",
        request.method,
        request.url.path,
        request_id(request.scope),
        exc_info=exc,
    )
    return problem(request, 500, "internal-error", "an unexpected error occurred")


def _http_problem(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    slug = SLUG_OF_STATUS.get(exc.status_code) or _slug(exc.status_code)
    headers = dict(exc.headers or {})
    detail = exc.detail
    if isinstance(exc, NotAuthorizedException):
        headers.setdefault("WWW-Authenticate", 'Bearer realm="trawl"')
        detail = "missing or invalid credentials"
    errors = None
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        errors = [
            {str(k): str(v) for k, v in item.items()}
            for item in exc.extra
            if isinstance(item, dict)
        ]
    return problem(request, exc.status_code, slug, detail, headers, errors)


def _slug(status: int) -> str:
    return HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")
