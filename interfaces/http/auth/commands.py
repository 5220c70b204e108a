"""Auth commands (each an event): register, verify the email, password, API keys."""

from __future__ import annotations

from uuid import UUID

from litestar import Controller, Response, delete, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from application.auth.principal import Caller
from interfaces.bootstrap import Trawl
from interfaces.http.auth import schemas
from interfaces.http.idempotency import IDEMPOTENCY_KEY, Command
from interfaces.http.schemas import CommandAnswer
from interfaces.http.security import account_of


class AuthCommands(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]
    parameters = IDEMPOTENCY_KEY

    @post("/register", status_code=201, sync_to_thread=True)
    def register(
        self,
        data: JSONBody[schemas.Register],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
    ) -> Response[CommandAnswer]:
        """Create an account and mail a verification token."""
        return command.run(
            lambda idem: trawl.users.register(
                command.context(), data.email, data.password, data.display_name, idem
            ),
            CommandAnswer,
        )

    @post("/verify-email", status_code=200, sync_to_thread=True)
    def verify_email(
        self,
        data: JSONBody[schemas.VerifyEmail],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
    ) -> Response[CommandAnswer]:
        return command.run(
            lambda idem: trawl.users.verify_email(command.context(), data.token, idem),
            CommandAnswer,
        )

    @post("/password", status_code=200, sync_to_thread=True)
    def change_password(
        self,
        data: JSONBody[schemas.ChangePassword],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
    ) -> Response[CommandAnswer]:
        """Change the password; every token issued before stops working."""
        return command.run(
            lambda idem: trawl.auth.change_password(
                command.context(caller), account_of(caller), data.current, data.new, idem
            ),
            CommandAnswer,
        )

    @post("/api-keys", status_code=201, sync_to_thread=True)
    def create_api_key(
        self,
        data: JSONBody[schemas.NewApiKey],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
    ) -> Response[schemas.ApiKeyCreated]:
        """A new API key for `X-API-Key`; the key is in this answer only."""
        return command.run(
            lambda idem: trawl.auth.create_api_key(
                command.context(caller), account_of(caller), data.name, idem
            ),
            schemas.ApiKeyCreated,
        )

    @delete("/api-keys/{key_id:uuid}", status_code=200, sync_to_thread=True)
    def delete_api_key(
        self,
        key_id: FromPath[UUID],
        caller: NamedDependency[Caller],
        trawl: NamedDependency[Trawl],
        command: NamedDependency[Command],
    ) -> Response[CommandAnswer]:
        return command.run(
            lambda idem: trawl.auth.delete_api_key(
                command.context(caller), account_of(caller), key_id, idem
            ),
            CommandAnswer,
        )
