"""Use cases of the urls area: bulk add (editor) and remove (editor).

A bulk add answers per URL: `accepted` (new, or a removed URL revived),
`duplicate` (live already, or twice in the request) or `rejected` with the
normalizer's reason. Every new or revived Url is saved in one commit; the
whole request is refused only when it is too large, the caller lacks the
editor role, or the project is archived (409) or deleted (404).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from application import access
from application.auth.principal import Caller
from application.store import (
    CommandResult,
    IdempotencyRequest,
    InvalidRequest,
    NotFound,
    TrawlStore,
)
from domain.projects.aggregate import Project
from domain.urls import errors as url_errors
from domain.urls import normalize
from domain.urls.aggregate import Url

MAX_URLS = 1000
ACCEPTED, DUPLICATE, REJECTED = "accepted", "duplicate", "rejected"


class UrlCommands:
    def __init__(self, store: TrawlStore, policy: access.AccessPolicy) -> None:
        self.store = store
        self.policy = policy

    def _writable_project(self, caller: Caller, project_id: UUID) -> Project:
        """The project, when the caller is an editor and it is writable (404/403/409)."""
        project = self.store.load(Project, project_id)
        known = access.ProjectAccess(project.owner_id, project.status)
        self.policy.require(caller, project_id, access.EDITOR, known)
        project.check_writable()
        return project

    def _existing(self, url_id: UUID) -> Url | None:
        try:
            return self.store.load(Url, url_id)
        except NotFound:
            return None

    def add_many(
        self,
        caller: Caller,
        project_id: UUID,
        raws: list[str],
        idempotency: IdempotencyRequest | None = None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        """Add up to 1,000 URLs; the answer's `items` say what became of each."""
        if len(raws) > MAX_URLS:
            raise InvalidRequest(f"at most {MAX_URLS} URLs per request")

        def command() -> CommandResult:
            project = self._writable_project(caller, project_id)
            ctx = caller.context(correlation_id)
            items: list[dict[str, Any]] = []
            changed: dict[UUID, Url] = {}
            seen: set[UUID] = set()
            for raw in raws:
                try:
                    normalized = normalize.normalize_url(raw)
                except url_errors.InvalidUrl as error:
                    items.append({"url": raw, "status": REJECTED, "reason": error.reason})
                    continue
                url_id = normalize.url_id(project_id, normalized)
                item = {"url": normalized, "id": str(url_id)}
                if url_id in seen:
                    items.append({**item, "status": DUPLICATE})
                    continue
                seen.add(url_id)
                existing = self._existing(url_id)
                if existing is None:
                    changed[url_id] = Url.add(ctx, project_id, normalized)
                elif existing.is_live:
                    items.append({**item, "status": DUPLICATE})
                    continue
                else:
                    existing.revive(ctx)
                    changed[url_id] = existing
                items.append({**item, "status": ACCEPTED})
            return self.store.commit(
                *changed.values(),
                project,
                idempotency=idempotency,
                result_of=project,
                extra={"items": items},
            )

        return self.store.retrying(command)

    def remove(
        self,
        caller: Caller,
        url_id: UUID,
        idempotency: IdempotencyRequest | None = None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        """Remove a URL (it stays readable as `removed`); again: 200, nothing changes."""

        def command() -> CommandResult:
            url = self.store.load(Url, url_id)
            self._writable_project(caller, url.project_id)
            if url.is_live:
                url.remove(caller.context(correlation_id))
            return self.store.commit(url, idempotency=idempotency)

        return self.store.retrying(command)

    def refresh(
        self,
        caller: Caller,
        url_id: UUID,
        idempotency: IdempotencyRequest | None = None,
        correlation_id: str | None = None,
    ) -> CommandResult:
        """Editor: fetch the URL again, conditionally (ETag / Last-Modified); a
        changed page becomes a new version and is extracted and chunked again.
        A fetch already waiting or running is superseded by this one."""

        def command() -> CommandResult:
            url = self.store.load(Url, url_id)
            self._writable_project(caller, url.project_id)
            url.schedule_fetch(caller.context(correlation_id), "refresh", None)
            return self.store.commit(url, idempotency=idempotency)

        return self.store.retrying(command)
