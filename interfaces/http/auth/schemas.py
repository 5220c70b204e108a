"""Bodies of the auth routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

import msgspec

from interfaces.http.schemas import (
    EMAIL_MAX,
    PASSWORD_MAX,
    TOKEN_MAX,
    CommandAnswer,
    Email,
    Name,
    Password,
    Schema,
)

Login = Annotated[str, msgspec.Meta(min_length=1, max_length=EMAIL_MAX)]
Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=PASSWORD_MAX)]
KeyName = Annotated[str, msgspec.Meta(max_length=200)]


class Register(Schema):
    email: Email
    password: Password
    display_name: Name


class VerifyEmail(Schema):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=TOKEN_MAX)]


class TokenRequest(Schema):
    email: Login
    password: Secret


class AccessToken(Schema):
    access_token: str
    token_type: str
    expires_in: int


class ChangePassword(Schema):
    current: Secret
    new: Password


class NewApiKey(Schema):
    name: KeyName


class ApiKeyCreated(CommandAnswer):
    """The key itself is shown here once; a replayed answer has `key: null`."""

    key_id: UUID
    name: str
    prefix: str
    key: str | None


class ApiKey(Schema):
    id: UUID
    name: str
    prefix: str
    created_at: datetime


class ApiKeys(Schema):
    items: list[ApiKey]


class Sent(Schema):
    sent: bool


class Me(Schema):
    id: UUID
    email: str | None
    display_name: str | None
    role: str
    email_verified: bool
    created_at: datetime
