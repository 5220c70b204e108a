"""Value rules of the shares area."""

from __future__ import annotations

from datetime import timedelta

from domain.shares import errors

GRANT_ROLES = ("viewer", "editor")
LINK_MIN_LIFETIME = timedelta(minutes=1)
LINK_MAX_LIFETIME = timedelta(days=90)


def check_role(role: str) -> str:
    if role not in GRANT_ROLES:
        raise errors.InvalidShareRole("role must be viewer or editor")
    return role


def check_lifetime(seconds: int) -> timedelta:
    lifetime = timedelta(seconds=seconds)
    if not LINK_MIN_LIFETIME <= lifetime <= LINK_MAX_LIFETIME:
        raise errors.InvalidExpiry("expires_in_seconds must be between 60 and 7776000 (90 days)")
    return lifetime
