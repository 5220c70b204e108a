"""The URL normalizer, version 1: one spelling per page, so one id per page.

The normalized URL is stored in the Url aggregate's `Added` event and the
url id is derived from it, so a later normalizer version changes how NEW
URLs are spelled but never the id of an existing one. docs/urls.md lists
every rule with examples. Only the standard library is used, and parsing is
done here (RFC 3986 Appendix B) rather than by `urllib.parse`, whose lenient
corners have changed between Python patch releases: a versioned normalizer
must not change its output when the interpreter is upgraded.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
import uuid

from domain.urls import components, errors

NORMALIZER_VERSION = 1
MAX_URL_LENGTH = 2048
DEFAULT_PORTS = {"http": "80", "https": "443"}
_MAX_HOST_LENGTH = 253

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(.*)", re.DOTALL)
_AFTER_SCHEME = re.compile(r"//([^/?#]*)([^?#]*)(?:\?([^#]*))?(?:#.*)?", re.DOTALL)
_HOST_AND_PORT = re.compile(r"(\[[^\]]*\]|[^:\[\]]*)(?::([0-9]*))?")
_HOST_NAME = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?")


def normalize_url(raw: str) -> str:
    """The normalized spelling of an http(s) URL, or `errors.InvalidUrl`.

    Checks run in this order, so each URL gets one stable reason: too-long,
    not-http, unparsable (control characters), credentials, unparsable (host,
    port), too-long (after normalizing).
    """
    value = raw.strip()
    if len(value) > MAX_URL_LENGTH:
        raise errors.UrlTooLong(f"a URL has at most {MAX_URL_LENGTH} characters")
    scheme_match = _SCHEME.fullmatch(value)
    scheme = scheme_match.group(1).lower() if scheme_match else ""
    if scheme_match is None or scheme not in DEFAULT_PORTS:
        raise errors.UrlNotHttp("only http and https URLs can be added")
    # Control characters and lone surrogates: browsers silently drop some of
    # them, which makes the "same" URL ambiguous; refuse instead of guessing.
    if any(unicodedata.category(char) in {"Cc", "Cs"} for char in value):
        raise errors.UrlUnparsable("the URL holds control characters")
    parts = _AFTER_SCHEME.fullmatch(scheme_match.group(2))
    if parts is None:
        raise errors.UrlUnparsable("an http(s) URL needs '//' and a host")
    authority, path, query = parts.groups()
    if "@" in authority:
        raise errors.UrlWithCredentials("credentials in a URL are not accepted")
    host, port = _host_and_port(authority, scheme)
    normalized = f"{scheme}://{host}{port}{components.normalize_path(path)}"
    if query_part := components.normalize_query(query or ""):
        normalized += "?" + query_part
    if len(normalized) > MAX_URL_LENGTH:
        raise errors.UrlTooLong(f"a normalized URL has at most {MAX_URL_LENGTH} characters")
    return normalized


def url_id(project_id: uuid.UUID, normalized: str) -> uuid.UUID:
    """The id of a URL in a project: uuid5(project id, normalized URL)."""
    return uuid.uuid5(project_id, normalized)


def _host_and_port(authority: str, scheme: str) -> tuple[str, str]:
    """`(host, ":port")` as written in the output; the default port is ""."""
    match = _HOST_AND_PORT.fullmatch(authority)
    if match is None:
        raise errors.UrlUnparsable("the host or port is malformed")
    host, port = match.groups()
    host = _ip_literal(host[1:-1]) if host.startswith("[") else _host_name(host)
    if not port:  # "host:" has an empty port, which RFC 3986 allows
        return host, ""
    number = int(port)
    if not 1 <= number <= 65535:
        raise errors.UrlUnparsable("the port must be between 1 and 65535")
    return host, "" if str(number) == DEFAULT_PORTS[scheme] else f":{number}"


def _ip_literal(inner: str) -> str:
    """An IPv6 literal, kept as written but lower-cased, in brackets."""
    try:
        ipaddress.IPv6Address(inner)
    except ValueError:
        raise errors.UrlUnparsable("the IPv6 address is malformed") from None
    if "%" in inner:  # zone ids only mean something on the fetching machine
        raise errors.UrlUnparsable("IPv6 zone ids are not accepted")
    return f"[{inner.lower()}]"


def _host_name(host: str) -> str:
    """A host name lower-cased and IDNA-encoded (stdlib IDNA 2003)."""
    if not host:
        raise errors.UrlUnparsable("the URL has no host")
    try:
        encoded = host.lower().encode("idna").decode("ascii")
        # Decoding checks what encoding passes through untouched: ASCII
        # labels that claim to be punycode ("xn--...") but are not.
        encoded.encode("ascii").decode("idna")
    except UnicodeError:
        raise errors.UrlUnparsable("the host name is not a valid (IDNA) name") from None
    if len(encoded) > _MAX_HOST_LENGTH or not _HOST_NAME.fullmatch(encoded):
        raise errors.UrlUnparsable("the host name holds characters a host cannot have")
    return encoded
