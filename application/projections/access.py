"""The access read model: who may do what on which project.

Tables:
- `access_projects`: one row per live project (owner, status);
- `access_grants`: (project, principal) -> role, the owner included as
  `owner`, grantees as `viewer`/`editor` (principal `user:<id>`); one
  indexed lookup answers "what may P do on X", an index on principal lists
  "which projects can P see";
- `share_list`, `link_list`: the owner's lists of shares (with pending
  invitations) and share links.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import DomainEventProtocol

from application.projections.base import Key, Projection, Rows, dispatchmethod
from domain.common import event_classes
from domain.projects.aggregate import Project
from domain.shares.aggregate import Invitation, Share, ShareLink

PROJECTS, GRANTS, SHARES, LINKS = "access_projects", "access_grants", "share_list", "link_list"


def user_principal(user_id: object) -> str:
    return f"user:{user_id}"


class AccessProjection(Projection):
    name = "access"
    topics = tuple(
        getattr(cls, "TOPIC")  # noqa: B009
        for aggregate in (Project, Share, Invitation, ShareLink)
        for cls in event_classes(aggregate)
        if aggregate is not Project
        or cls in (Project.Created, Project.Archived, Project.Restored, Project.Deleted)
    )

    def keys(self, event: DomainEventProtocol[Any]) -> list[tuple[str, Key]]:
        if isinstance(event, Project.Created):  # writes new rows: nothing to read
            return []
        if isinstance(event, Project.Event):
            return [(PROJECTS, (event.originator_id,))]
        if isinstance(event, ShareLink.Event):
            return [(LINKS, (event.originator_id,))]
        return [(SHARES, (event.originator_id,))]

    @dispatchmethod
    def process(self, event: DomainEventProtocol[Any], rows: Rows) -> None:
        """Events of no interest change nothing."""

    # -- projects --------------------------------------------------------------

    @process.register
    def project_created(self, event: Project.Created, rows: Rows) -> None:
        project = event.originator_id
        rows.put(
            PROJECTS,
            (project,),
            {"project_id": project, "owner_id": event.owner_id, "status": "active"},
        )
        principal = user_principal(event.owner_id)
        rows.put(
            GRANTS,
            (project, principal),
            {"project_id": project, "principal": principal, "role": "owner", "source_id": project},
        )

    @process.register
    def project_archived(self, event: Project.Archived, rows: Rows) -> None:
        self._status(event.originator_id, "archived", rows)

    @process.register
    def project_restored(self, event: Project.Restored, rows: Rows) -> None:
        self._status(event.originator_id, "active", rows)

    @process.register
    def project_deleted(self, event: Project.Deleted, rows: Rows) -> None:
        project = event.originator_id
        rows.delete(PROJECTS, (project,))
        for table in (GRANTS, SHARES, LINKS):
            rows.delete_all(table, "project_id", project)

    def _status(self, project: Any, status: str, rows: Rows) -> None:
        row = rows.get(PROJECTS, (project,))
        if row is not None:
            rows.put(PROJECTS, (project,), {**row, "status": status})

    # -- shares and invitations --------------------------------------------------

    @process.register
    def share_created(self, event: Share.Created, rows: Rows) -> None:
        if rows.get(PROJECTS, (event.project_id,)) is None:
            return
        principal = user_principal(event.grantee_id)
        rows.put(
            GRANTS,
            (event.project_id, principal),
            {
                "project_id": event.project_id,
                "principal": principal,
                "role": event.role,
                "source_id": event.originator_id,
            },
        )
        rows.put(
            SHARES,
            (event.originator_id,),
            {
                "id": event.originator_id,
                "project_id": event.project_id,
                "kind": "share",
                "grantee_id": event.grantee_id,
                "role": event.role,
                "created_at": event.timestamp,
            },
        )
        if event.invitation_id is not None:
            rows.delete(SHARES, (event.invitation_id,))

    @process.register
    def share_role_changed(self, event: Share.RoleChanged, rows: Rows) -> None:
        share = rows.get(SHARES, (event.originator_id,))
        if share is None:
            return
        rows.put(SHARES, (event.originator_id,), {**share, "role": event.role})
        key = (share["project_id"], user_principal(share["grantee_id"]))
        grant = rows.get(GRANTS, key)
        if grant is not None:
            rows.put(GRANTS, key, {**grant, "role": event.role})

    @process.register
    def share_revoked(self, event: Share.Revoked, rows: Rows) -> None:
        self._end_share(event.originator_id, rows)

    @process.register
    def share_left(self, event: Share.Left, rows: Rows) -> None:
        self._end_share(event.originator_id, rows)

    def _end_share(self, share_id: Any, rows: Rows) -> None:
        share = rows.get(SHARES, (share_id,))
        if share is None:
            return
        rows.delete(SHARES, (share_id,))
        rows.delete(GRANTS, (share["project_id"], user_principal(share["grantee_id"])))

    @process.register
    def invitation_created(self, event: Invitation.Created, rows: Rows) -> None:
        if rows.get(PROJECTS, (event.project_id,)) is None:
            return
        rows.put(
            SHARES,
            (event.originator_id,),
            {
                "id": event.originator_id,
                "project_id": event.project_id,
                "kind": "invitation",
                "grantee_id": None,
                "role": event.role,
                "created_at": event.timestamp,
            },
        )

    @process.register
    def invitation_role_changed(self, event: Invitation.RoleChanged, rows: Rows) -> None:
        row = rows.get(SHARES, (event.originator_id,))
        if row is not None:
            rows.put(SHARES, (event.originator_id,), {**row, "role": event.role})

    @process.register
    def invitation_revoked(self, event: Invitation.Revoked, rows: Rows) -> None:
        rows.delete(SHARES, (event.originator_id,))

    # -- links ----------------------------------------------------------------------

    @process.register
    def link_created(self, event: ShareLink.Created, rows: Rows) -> None:
        if rows.get(PROJECTS, (event.project_id,)) is None:
            return
        rows.put(
            LINKS,
            (event.originator_id,),
            {
                "id": event.originator_id,
                "project_id": event.project_id,
                "role": event.role,
                "expires_at": event.expires_at,
                "created_at": event.timestamp,
            },
        )

    @process.register
    def link_revoked(self, event: ShareLink.Revoked, rows: Rows) -> None:
        rows.delete(LINKS, (event.originator_id,))
