"""Properties of the v1 normalizer over generated URLs (hypothesis)."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.urls import errors
from domain.urls.components import TRACKING_PARAMETERS, is_tracking
from domain.urls.normalize import normalize_url, url_id

pytestmark = pytest.mark.unit

# Printable text: control characters are refused (tested apart).
TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=12)
LABEL = st.text("abcxyzABCXYZ019-_äöüßéñ日本語", min_size=1, max_size=15)
HOSTS = st.one_of(
    st.lists(LABEL, min_size=1, max_size=4).map(".".join),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda address: f"[{str(address).upper()}]"),
)
SEGMENTS = st.one_of(TEXT, st.sampled_from([".", "..", "%2e", "%7E", "%41", "%c3%a9", "%zz", "%"]))
KEYS = st.one_of(TEXT, st.sampled_from(["utm_source", "UTM_x", "fbclid", "gclid", "_ga", "q"]))
PARAMS = st.lists(st.tuples(KEYS, st.sampled_from(["", "="]), TEXT), max_size=5)


@st.composite
def http_urls(draw: st.DrawFn) -> tuple[str, str, str, int | None]:
    """(raw url, scheme as generated, host as generated, port as generated)."""
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    host = draw(HOSTS)
    port = draw(st.none() | st.integers(1, 65535))
    path = "".join("/" + segment for segment in draw(st.lists(SEGMENTS, max_size=5)))
    query = "&".join(k + eq + v for k, eq, v in draw(PARAMS))
    fragment = draw(st.none() | TEXT)
    raw = f"{scheme}://{host}{'' if port is None else f':{port}'}{path}"
    raw += ("?" + query if query or draw(st.booleans()) else "") + (
        "" if fragment is None else "#" + fragment
    )
    return raw, scheme, host, port


def normalized_or_skip(raw: str) -> str:
    try:
        return normalize_url(raw)
    except errors.InvalidUrl:
        assume(False)
        raise


@given(http_urls())
def test_normalizing_is_idempotent(generated: tuple[str, str, str, int | None]) -> None:
    once = normalized_or_skip(generated[0])
    assert normalize_url(once) == once


@given(http_urls())
def test_output_parses_back_to_the_same_scheme_host_and_port(
    generated: tuple[str, str, str, int | None],
) -> None:
    raw, scheme, host, port = generated
    parts = urlsplit(normalized_or_skip(raw))
    assert parts.scheme == scheme.lower()
    expected_host = host.strip("[]").lower().encode("idna").decode("ascii")
    assert parts.hostname == expected_host
    default = {"http": 80, "https": 443}[scheme.lower()]
    assert parts.port == (None if port in {None, default} else port)
    assert parts.fragment == ""
    assert urlunsplit(parts) == normalize_url(raw)


@given(http_urls())
def test_output_is_plain_ascii_with_sorted_parameters_and_no_tracking(
    generated: tuple[str, str, str, int | None],
) -> None:
    out = normalized_or_skip(generated[0])
    assert out.isascii() and out.isprintable() and " " not in out
    query = urlsplit(out).query
    pieces = query.split("&") if query else []
    assert pieces == sorted(pieces, key=lambda piece: tuple(piece.partition("=")))
    assert all(piece for piece in pieces)
    assert not any(is_tracking(key) for key, _ in parse_qsl(query, keep_blank_values=True))


@given(st.text(max_size=60) | st.text(max_size=60).map(lambda rest: "http://" + rest))
def test_any_text_is_normalized_or_refused_with_a_reason(raw: str) -> None:
    try:
        out = normalize_url(raw)
    except errors.InvalidUrl as refused:
        assert refused.reason in errors.REJECTION_REASONS
    else:
        assert normalize_url(out) == out


def test_tracking_parameters_are_matched_without_regard_to_case() -> None:
    for name in TRACKING_PARAMETERS:
        assert is_tracking(name.upper())
    assert is_tracking("Utm_Anything")
    assert not is_tracking("ref")


@given(st.uuids(), http_urls())
def test_url_id_is_uuid5_of_the_project_and_the_normalized_url(
    project_id: uuid.UUID, generated: tuple[str, str, str, int | None]
) -> None:
    normalized = normalized_or_skip(generated[0])
    first = url_id(project_id, normalized)
    assert first == url_id(project_id, normalized)
    assert first == uuid.uuid5(project_id, normalized)
    assert first.version == 5


def test_url_id_is_scoped_to_the_project() -> None:
    normalized = normalize_url("https://example.com/")
    assert url_id(uuid.uuid4(), normalized) != url_id(uuid.uuid4(), normalized)


def test_url_id_is_pinned_for_a_known_project_and_url() -> None:
    # A change here orphans every stored url id: it must never happen.
    project = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert url_id(project, "https://example.com/") == uuid.UUID(
        "bede9afc-50c2-5d5a-ae9f-7378d96ec6f5"
    )


def test_spellings_of_one_page_share_one_id() -> None:
    project = uuid.uuid4()
    spellings = [
        "https://Example.com:443/a/./b?utm_source=x&z=1&a=2#top",
        " HTTPS://example.COM/a/b?a=2&z=1 ",
        "https://example.com/a/c/../b?a=%32&z=1&fbclid=abc",
    ]
    assert len({url_id(project, normalize_url(spelling)) for spelling in spellings}) == 1
