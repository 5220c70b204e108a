"""The access policy: one place decides what a caller may do on a project.

Every command and query asks `AccessPolicy.require`. Roles rank viewer <
editor < owner. Owners are known from the project itself (strongly
consistent); grants come from the access read model, so a revocation takes
effect once its position is applied; a share link carries its own role for
its one project. Auditors and admins read history through the audit routes,
not through this policy.

Order of checks (DESIGN.md): no principal -> 401 (the HTTP edge); no access
-> 404 (ids do not leak); visible but role too small -> 403; the project's
state forbids it -> 409 (the aggregate's guards, after this policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from application.auth.errors import Forbidden
from application.auth.principal import Caller
from application.store import NotFound

VIEWER, EDITOR, OWNER = "viewer", "editor", "owner"
ROLE_RANK = {VIEWER: 1, EDITOR: 2, OWNER: 3}


@dataclass(frozen=True)
class ProjectAccess:
    owner_id: UUID
    status: str


class AccessView(Protocol):
    """The access read model."""

    def project(self, project_id: UUID) -> ProjectAccess | None:
        """Owner and status of a live project, None when unknown or deleted."""
        ...

    def role(self, project_id: UUID, principal: str) -> str | None:
        """The role granted to a principal (`user:<id>`) on a project."""
        ...


class AccessPolicy:
    def __init__(self, view: AccessView) -> None:
        self.view = view

    def role(self, caller: Caller, project_id: UUID, project: ProjectAccess) -> str | None:
        """The caller's role on a live project, None when it is not visible to them."""
        if project.status == "deleted":
            return None
        if caller.link is not None:
            return caller.link.role if caller.link.project_id == project_id else None
        if caller.user_id == project.owner_id:
            return OWNER
        return self.view.role(project_id, caller.principal_key)

    def require(
        self,
        caller: Caller,
        project_id: UUID,
        needed: str,
        project: ProjectAccess | None = None,
    ) -> str:
        """The caller's role when at least `needed`; NotFound or Forbidden otherwise.

        `project` comes from the aggregate in commands (strong); queries
        leave it out and the access view answers.
        """
        project = project or self.view.project(project_id)
        role = self.role(caller, project_id, project) if project else None
        if role is None:
            raise NotFound("project not found")
        if ROLE_RANK[role] < ROLE_RANK[needed]:
            raise Forbidden(f"this needs the {needed} role on the project")
        return role
