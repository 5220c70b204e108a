"""The access policy: one place decides what a caller may do on a project.

Order of checks (DESIGN.md): no principal -> 401 (the HTTP edge); no access
-> 404 (ids do not leak); visible but role too small -> 403; the project's
state forbids it -> 409 (the aggregate's guards).
"""

from __future__ import annotations

from uuid import UUID

from application.auth.errors import Forbidden
from application.auth.principal import Caller
from application.store import NotFound

OWNER = "owner"
ROLE_RANK = {"viewer": 1, "editor": 2, OWNER: 3}


def role_on_project(caller: Caller, owner_id: UUID, deleted: bool) -> str | None:
    """The caller's role on a project, None when it is not visible to them."""
    if deleted:
        return None
    if caller.user_id == owner_id:
        return OWNER
    return None


def require(caller: Caller, owner_id: UUID, deleted: bool, needed: str) -> str:
    """The caller's role when it is at least `needed`; NotFound or Forbidden."""
    role = role_on_project(caller, owner_id, deleted)
    if role is None:
        raise NotFound("project not found")
    if ROLE_RANK[role] < ROLE_RANK[needed]:
        raise Forbidden(f"this needs the {needed} role on the project")
    return role
