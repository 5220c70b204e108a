"""Path and query rules of the URL normalizer (RFC 3986 §6.2.2).

Split from normalize.py to keep each file readable at once; these functions
take components already cut out of the URL and never raise.
"""

from __future__ import annotations

import re
import string

# Tracking parameters carry who clicked where, never what the page shows, so
# two links to one page differ only by them. Matched case-insensitively on the
# (percent-normalized) key. `ref` is deliberately absent: sites use it for
# content (GitHub's `?ref=<branch>`).
TRACKING_PREFIXES = ("utm_",)
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",  # Facebook
        "gclid",  # Google Ads
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "srsltid",  # Google Merchant Center
        "_ga",  # Google Analytics cross-domain linker
        "_gl",
        "msclkid",  # Microsoft Ads
        "mc_cid",  # Mailchimp
        "mc_eid",
        "yclid",  # Yandex
        "igshid",  # Instagram
        "igsh",
        "ref_src",  # Twitter / X
        "twclid",
        "ttclid",  # TikTok
        "li_fat_id",  # LinkedIn
        "_hsenc",  # HubSpot
        "_hsmi",
        "mkt_tok",  # Marketo
        "oly_anon_id",  # Omeda
        "oly_enc_id",
        "vero_id",  # Vero
        "vero_conv",
    }
)

UNRESERVED = string.ascii_letters + string.digits + "-._~"
_SUB_DELIMS = "!$&'()*+,;="
_PATH_SAFE = UNRESERVED + _SUB_DELIMS + ":@/"
_QUERY_SAFE = _PATH_SAFE + "?"

# One pass: a valid escape, or a character that must be escaped (a lone "%"
# included, so the output never holds an ambiguous "%").
_PATH_TOKEN = re.compile(r"%([0-9A-Fa-f]{2})|([^" + re.escape(_PATH_SAFE) + "])")
_QUERY_TOKEN = re.compile(r"%([0-9A-Fa-f]{2})|([^" + re.escape(_QUERY_SAFE) + "])")


def _requote(match: re.Match[str]) -> str:
    hex_digits, other = match.groups()
    if hex_digits is not None:
        char = chr(int(hex_digits, 16))
        return char if char in UNRESERVED else "%" + hex_digits.upper()
    return "".join(f"%{byte:02X}" for byte in other.encode("utf-8"))


def normalize_path(path: str) -> str:
    """Escapes normalized, then dot segments removed; "" becomes "/"."""
    return remove_dot_segments(_PATH_TOKEN.sub(_requote, path)) if path else "/"


def remove_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4 for an absolute path: "/a/./b/../c" -> "/a/c"."""
    segments = path.split("/")[1:]
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    result = "/" + "/".join(kept)
    # A final "." or ".." names a directory: "/a/b/.." is "/a/", not "/a".
    if segments[-1] in {".", ".."} and not result.endswith("/"):
        result += "/"
    return result


def is_tracking(key: str) -> bool:
    """Whether a (normalized) query key is a tracking parameter."""
    lowered = key.lower()
    return lowered.startswith(TRACKING_PREFIXES) or lowered in TRACKING_PARAMETERS


def normalize_query(query: str) -> str:
    """Escapes normalized, tracking parameters dropped, the rest sorted.

    Parameters are split on "&" only; empty ones ("a=1&&b=2") vanish. A bare
    key stays bare ("?edit") and a blank value stays blank ("?q="): some
    servers route on bare keys ("index.php?/page"), so they are not rewritten.
    """
    params: list[tuple[str, str, str]] = []
    for piece in query.split("&"):
        if not piece:
            continue
        key, equals, value = _QUERY_TOKEN.sub(_requote, piece).partition("=")
        if not is_tracking(key):
            params.append((key, equals, value))
    params.sort()
    return "&".join(key + equals + value for key, equals, value in params)
