"""Share commands: grant, change and revoke (owner), leave (grantee), share
links (owner), and accepting an invitation (a signed-in, verified invitee).

Revoking what already ended answers 200 with the unchanged version.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, Response, delete, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, PathParameter

from application.auth.principal import Caller
from interfaces.bootstrap import Trawl
from interfaces.http.idempotency import IDEMPOTENCY_KEY, Command
from interfaces.http.schemas import TOKEN_MAX, CommandAnswer
from interfaces.http.security import IN_PROJECT
from interfaces.http.shares import schemas

PROJECT = "/projects/{project_id:uuid}"
SHARE = "/shares/{share_id:uuid}"
LINK = PROJECT + "/share-links/{link_id:uuid}"
InvitationToken = Annotated[str, PathParameter(min_length=1, max_length=TOKEN_MAX)]


class ShareCommands(Controller):
    path = "/api/v1"
    tags = ["shares"]
    parameters = IDEMPOTENCY_KEY

    @post(PROJECT + "/shares", status_code=201, sync_to_thread=True, opt=IN_PROJECT)
    def grant(
        self,
        project_id: FromPath[UUID],
        data: JSONBody[schemas.Grant],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
    ) -> Response[schemas.Granted]:
        """Share with the account that verified this email, or mail it an invitation."""
        return command.run(
            lambda idem: trawl.shares.grant(
                caller, project_id, data.email, data.role, idem, command.correlation_id
            ),
            schemas.Granted,
        )

    @patch(SHARE, status_code=200, sync_to_thread=True, opt=IN_PROJECT)
    def change_role(
        self,
        share_id: FromPath[UUID],
        data: JSONBody[schemas.ChangeRole],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
    ) -> Response[CommandAnswer]:
        """Change the role of a share or of a pending invitation."""
        return command.run(
            lambda idem: trawl.shares.change_role(
                caller, share_id, data.role, idem, command.correlation_id
            ),
            CommandAnswer,
        )

    @delete(SHARE, status_code=200, sync_to_thread=True, opt=IN_PROJECT)
    def revoke(
        self,
        share_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
    ) -> Response[CommandAnswer]:
        """End a share or withdraw an invitation (again: 200, nothing changes)."""
        return command.run(
            lambda idem: trawl.shares.revoke(caller, share_id, idem, command.correlation_id),
            CommandAnswer,
        )

    @post(PROJECT + "/leave", status_code=200, sync_to_thread=True, opt=IN_PROJECT)
    def leave(
        self,
        project_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
    ) -> Response[CommandAnswer]:
        """Give up your own share of the project."""
        return command.run(
            lambda idem: trawl.shares.leave(caller, project_id, idem, command.correlation_id),
            CommandAnswer,
        )

    @post(PROJECT + "/share-links", status_code=201, sync_to_thread=True, opt=IN_PROJECT)
    def create_link(
        self,
        project_id: FromPath[UUID],
        data: JSONBody[schemas.NewLink],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
    ) -> Response[schemas.LinkCreated]:
        """A link for `X-Share-Token`; the token is in this answer only."""
        return command.run(
            lambda idem: trawl.shares.create_link(
                caller,
                project_id,
                data.role,
                data.expires_in_seconds,
                idem,
                command.correlation_id,
            ),
            schemas.LinkCreated,
        )

    @delete(LINK, status_code=200, sync_to_thread=True, opt=IN_PROJECT)
    def revoke_link(
        self,
        project_id: FromPath[UUID],
        link_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
    ) -> Response[CommandAnswer]:
        """The link stops working at once (again: 200, nothing changes)."""
        return command.run(
            lambda idem: trawl.shares.revoke_link(
                caller, project_id, link_id, idem, command.correlation_id
            ),
            CommandAnswer,
        )

    @post("/invitations/{token:str}/accept", status_code=200, sync_to_thread=True)
    def accept(
        self,
        token: InvitationToken,
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
    ) -> Response[schemas.Accepted]:
        """Accept an invitation mailed to your verified email: a share is created."""
        return command.run(
            lambda idem: trawl.shares.accept(caller, token, idem, command.correlation_id),
            schemas.Accepted,
        )
