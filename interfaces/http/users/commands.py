"""Account administration (admin): forgetting a person."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath

from application.auth.principal import Caller
from interfaces.bootstrap import Trawl
from interfaces.http.idempotency import IDEMPOTENCY_KEY, Command
from interfaces.http.schemas import CommandAnswer


class UserCommands(Controller):
    path = "/api/v1/users"
    tags = ["users"]
    parameters = IDEMPOTENCY_KEY

    @post("/{user_id:uuid}/forget", status_code=200, sync_to_thread=True)
    def forget(
        self,
        user_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
    ) -> Response[CommandAnswer]:
        """Forget a person: a `Forgotten` event, then their key is deleted, so
        their email and name read as erased everywhere (admin only)."""
        return command.run(
            lambda idem: trawl.users.forget_as(caller, user_id, idem, command.correlation_id),
            CommandAnswer,
        )
