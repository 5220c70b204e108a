"""The shared base of every HTTP body, and the bodies every area uses.

Request bodies refuse unknown fields (a typo is a 400, not a silently ignored
field). Length limits here only bound the work a request can cause; the
domain's rules answer 422 with what is wrong (trimmed names of 1-200
characters, ...), so the caps of fields the domain trims leave room for it.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import msgspec

NAME_CAP = 1000  # the domain trims, then allows 1-200 characters
EMAIL_MAX = 254
PASSWORD_MAX = 1024
DESCRIPTION_MAX = 2000
TOKEN_MAX = 512

Name = Annotated[str, msgspec.Meta(max_length=NAME_CAP)]
Email = Annotated[str, msgspec.Meta(max_length=EMAIL_MAX)]
Password = Annotated[str, msgspec.Meta(max_length=PASSWORD_MAX)]
Description = Annotated[str, msgspec.Meta(max_length=DESCRIPTION_MAX)]


class Schema(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every request and response body."""


class CommandAnswer(Schema):
    """The answer to every command: what changed and the log position it is at."""

    id: UUID
    version: int
    position: int


class Problem(Schema):
    """RFC 9457 problem details (`application/problem+json`)."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | msgspec.UnsetType = msgspec.UNSET
