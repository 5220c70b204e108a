"""The User aggregate: registration, verification, role, password, API keys.

Email and display name are personal data: the events declare them in
`personal_fields`, and the store encrypts them with the user's own key.
Credentials (password and API-key hashes) never enter events.
"""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from domain.common import Context, TrawlAggregate
from domain.users import errors, values


class User(TrawlAggregate):
    TOPIC = "trawl:user"

    class Created(TrawlAggregate.Created):
        TOPIC = "trawl:user.created"
        personal_fields: ClassVar[tuple[str, ...]] = ("email", "display_name")
        email: str
        display_name: str
        role: str

    class EmailVerified(TrawlAggregate.Event):
        TOPIC = "trawl:user.email_verified"

        def apply(self, aggregate: User) -> None:
            aggregate.email_verified = True

    class RoleChanged(TrawlAggregate.Event):
        """Version 2 adds `previous_role` (what the account had before)."""

        TOPIC = "trawl:user.role_changed"
        class_version = 2
        role: str
        previous_role: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            # Version 1 did not record it; the history before this event knows
            # it, but an upcaster sees one event, so it stays unknown.
            state["previous_role"] = None

        def apply(self, aggregate: User) -> None:
            aggregate.role = self.role

    class PasswordChanged(TrawlAggregate.Event):
        TOPIC = "trawl:user.password_changed"

    class ApiKeyCreated(TrawlAggregate.Event):
        TOPIC = "trawl:user.api_key_created"
        key_id: UUID
        name: str

        def apply(self, aggregate: User) -> None:
            aggregate.api_keys[self.key_id] = self.name

    class ApiKeyDeleted(TrawlAggregate.Event):
        TOPIC = "trawl:user.api_key_deleted"
        key_id: UUID

        def apply(self, aggregate: User) -> None:
            aggregate.api_keys.pop(self.key_id, None)

    class Forgotten(TrawlAggregate.Event):
        """The person's key was deleted: their personal fields read as erased."""

        TOPIC = "trawl:user.forgotten"

        def apply(self, aggregate: User) -> None:
            aggregate.email = None
            aggregate.display_name = None
            aggregate.forgotten = True

    def __init__(self, email: str, display_name: str, role: str, **_: object) -> None:
        self.email: str | None = email
        self.display_name: str | None = display_name
        self.role = role
        self.email_verified = False
        self.forgotten = False
        self.api_keys: dict[UUID, str] = {}

    @classmethod
    def register(cls, ctx: Context, user_id: UUID, email: str, display_name: str) -> User:
        """A new account; everybody starts with the `user` role."""
        return cls._create(
            cls.Created,
            id=user_id,
            email=values.normalize_email(email),
            display_name=values.normalize_display_name(display_name),
            role="user",
            **ctx.fields(),
        )

    def verify_email(self, ctx: Context) -> bool:
        """Mark the email verified; False (and no event) when it already was."""
        if self.email_verified:
            return False
        self._emit(self.EmailVerified, ctx)
        return True

    def change_role(self, ctx: Context, role: str) -> bool:
        values.check_role(role)
        if role == self.role:
            return False
        self._emit(self.RoleChanged, ctx, role=role, previous_role=self.role)
        return True

    def forget(self, ctx: Context) -> bool:
        """Record that the person is forgotten; False when they already were."""
        if self.forgotten:
            return False
        self._emit(self.Forgotten, ctx)
        return True

    def record_password_change(self, ctx: Context) -> None:
        self._emit(self.PasswordChanged, ctx)

    def create_api_key(self, ctx: Context, key_id: UUID, name: str) -> None:
        name = name.strip()
        if not 1 <= len(name) <= 100:
            raise errors.InvalidDisplayName("API key name must have 1 to 100 characters")
        self._emit(self.ApiKeyCreated, ctx, key_id=key_id, name=name)

    def delete_api_key(self, ctx: Context, key_id: UUID) -> bool:
        if key_id not in self.api_keys:
            return False
        self._emit(self.ApiKeyDeleted, ctx, key_id=key_id)
        return True
