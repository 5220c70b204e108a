"""Value rules of the projects area."""

from __future__ import annotations

import unicodedata

from domain.projects import errors

NAME_MAX_LENGTH = 200
DESCRIPTION_MAX_LENGTH = 2000


def _has_control_characters(value: str, allowed: str = "") -> bool:
    return any(unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value)


def normalize_name(name: str) -> str:
    """Trim; 1-200 characters, no control characters."""
    value = name.strip()
    if not 1 <= len(value) <= NAME_MAX_LENGTH:
        raise errors.InvalidName(f"name must have 1 to {NAME_MAX_LENGTH} characters after trimming")
    if _has_control_characters(value):
        raise errors.InvalidName("name must not hold control characters")
    return value


def normalize_description(description: str) -> str:
    """At most 2,000 characters; newlines and tabs allowed."""
    value = description.strip()
    if len(value) > DESCRIPTION_MAX_LENGTH:
        raise errors.InvalidDescription(
            f"description must have at most {DESCRIPTION_MAX_LENGTH} characters"
        )
    if _has_control_characters(value, allowed="\n\r\t"):
        raise errors.InvalidDescription("description must not hold control characters")
    return value
