"""Value rules of the users area: emails, passwords, display names, roles."""

from __future__ import annotations

import re
import unicodedata

from domain.users import errors

ROLES = ("user", "auditor", "admin")
PASSWORD_MIN_LENGTH = 12
PASSWORD_MAX_LENGTH = 1024
DISPLAY_NAME_MAX_LENGTH = 200
EMAIL_MAX_LENGTH = 254

# Deliberately simple: one @, a dot in the domain, no spaces. Deliverability is
# proven by the verification mail, not by a regular expression.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def normalize_email(email: str) -> str:
    """Trim and lower-case an email (addresses are unique case-insensitively)."""
    value = unicodedata.normalize("NFC", email.strip()).lower()
    if len(value) > EMAIL_MAX_LENGTH or not _EMAIL.match(value):
        raise errors.InvalidEmail("email must look like name@example.org")
    return value


def check_password(password: str) -> str:
    """Refuse passwords shorter than 12 characters (or absurdly long ones)."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise errors.WeakPassword(f"password must have at least {PASSWORD_MIN_LENGTH} characters")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise errors.WeakPassword(f"password must have at most {PASSWORD_MAX_LENGTH} characters")
    return password


def normalize_display_name(name: str) -> str:
    """Trim; 1-200 characters without control characters."""
    value = name.strip()
    if not value or len(value) > DISPLAY_NAME_MAX_LENGTH:
        raise errors.InvalidDisplayName(
            f"display_name must have 1 to {DISPLAY_NAME_MAX_LENGTH} characters"
        )
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise errors.InvalidDisplayName("display_name must not hold control characters")
    return value


def check_role(role: str) -> str:
    if role not in ROLES:
        raise errors.InvalidRole(f"role must be one of {', '.join(ROLES)}")
    return role
