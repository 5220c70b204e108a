"""The v1 URL normalizer, rule by rule (docs/urls.md holds the same table)."""

from __future__ import annotations

import pytest

from domain.common import DomainError
from domain.urls import errors
from domain.urls.normalize import MAX_URL_LENGTH, normalize_url

pytestmark = pytest.mark.unit

EXAMPLES = [
    # trimming; scheme and host lower-cased; empty path -> "/"
    ("  HTTP://Example.COM  ", "http://example.com/"),
    ("\thttps://EXAMPLE.com/Path/Kept\n", "https://example.com/Path/Kept"),
    # IDNA: Unicode host names become punycode (stdlib IDNA 2003)
    ("http://Bücher.example/", "http://xn--bcher-kva.example/"),
    ("http://例え。jp/", "http://xn--r8jz45g.jp/"),
    (
        "http://\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d/",
        "http://example.com/",
    ),  # fullwidth
    ("http://xn--bcher-kva.example/", "http://xn--bcher-kva.example/"),
    ("http://my_host.example.com./", "http://my_host.example.com./"),
    # IPv6 literals stay in brackets, lower-cased; IPv4 as written
    ("http://[2001:DB8::1]/", "http://[2001:db8::1]/"),
    ("http://[::FFFF:1.2.3.4]:8080/", "http://[::ffff:1.2.3.4]:8080/"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000/"),
    # default ports dropped, others kept without leading zeros
    ("http://example.com:80/", "http://example.com/"),
    ("https://example.com:443/", "https://example.com/"),
    ("https://example.com:80/", "https://example.com:80/"),
    ("http://example.com:0080/", "http://example.com/"),
    ("http://example.com:08080/", "http://example.com:8080/"),
    ("http://example.com:/", "http://example.com/"),
    # fragment dropped; empty query dropped
    ("http://example.com/a#section-2", "http://example.com/a"),
    ("http://example.com/a?#", "http://example.com/a"),
    ("http://example.com?", "http://example.com/"),
    # tracking parameters removed, in any case
    ("http://e.com/?utm_source=x&UTM_Medium=y&id=3", "http://e.com/?id=3"),
    ("http://e.com/?fbclid=1&gclid=2&msclkid=3&_ga=4&MC_CID=5", "http://e.com/"),
    ("http://e.com/?ref=main&ref_src=twsrc", "http://e.com/?ref=main"),
    ("http://e.com/?utm%5Fsource=x", "http://e.com/"),
    # remaining parameters sorted by key then value; empty pieces dropped
    ("http://e.com/?b=2&a=2&a=1", "http://e.com/?a=1&a=2&b=2"),
    ("http://e.com/?b=1&&a=1&", "http://e.com/?a=1&b=1"),
    # blank values kept as "k="; bare keys kept bare
    ("http://e.com/?q=&page=2", "http://e.com/?page=2&q="),
    ("http://e.com/index.php?/blog&edit", "http://e.com/index.php?/blog&edit"),
    # percent-encoding: hex upper-cased, unreserved decoded, the rest encoded
    ("http://e.com/%7euser/%41%2d%5F", "http://e.com/~user/A-_"),
    ("http://e.com/a%2fb%3a", "http://e.com/a%2Fb%3A"),
    ("http://e.com/café au lait", "http://e.com/caf%C3%A9%20au%20lait"),
    ("http://e.com/%c3%a9", "http://e.com/%C3%A9"),
    ("http://e.com/100%", "http://e.com/100%25"),
    ("http://e.com/%zz", "http://e.com/%25zz"),
    ('http://e.com/a"b<c>|{}^`\\', "http://e.com/a%22b%3Cc%3E%7C%7B%7D%5E%60%5C"),
    ("http://e.com/?q=a+b%2bc&x=%26", "http://e.com/?q=a+b%2Bc&x=%26"),
    ("http://e.com/?q=日本", "http://e.com/?q=%E6%97%A5%E6%9C%AC"),
    ("http://e.com/?next=/a?b=c", "http://e.com/?next=/a?b=c"),
    # sub-delimiters, ":" and "@" stay literal in the path
    ("http://e.com/a:b@c!$'()*+,;=", "http://e.com/a:b@c!$'()*+,;="),
    # dot segments removed (RFC 3986 §5.2.4), also when percent-encoded
    ("http://e.com/a/b/c/./../../g", "http://e.com/a/g"),
    ("http://e.com/a/b/..", "http://e.com/a/"),
    ("http://e.com/../../x", "http://e.com/x"),
    ("http://e.com/a/%2E%2e/b", "http://e.com/b"),
    ("http://e.com/a/.../b", "http://e.com/a/.../b"),
    # no trailing-slash games, repeated slashes kept
    ("http://e.com/docs", "http://e.com/docs"),
    ("http://e.com/docs/", "http://e.com/docs/"),
    ("http://e.com//a//b", "http://e.com//a//b"),
]


@pytest.mark.parametrize(("raw", "expected"), EXAMPLES)
def test_example(raw: str, expected: str) -> None:
    assert normalize_url(raw) == expected


REJECTED = [
    # not-http: another scheme, or none at all
    ("ftp://example.com/", "not-http"),
    ("mailto:ada@example.com", "not-http"),
    ("javascript:alert(1)", "not-http"),
    ("example.com/page", "not-http"),
    ("localhost:8080/", "not-http"),
    ("//example.com/", "not-http"),
    ("", "not-http"),
    # too-long: before or after normalizing
    ("http://e.com/" + "a" * (MAX_URL_LENGTH - 12), "too-long"),
    ("http://e.com/" + "é" * 1000, "too-long"),
    # credentials: any user info before the host
    ("http://ada:secret@example.com/", "credentials"),
    ("http://ada@example.com/", "credentials"),
    ("http://@example.com/", "credentials"),
    ("http://example.com@evil.example/", "credentials"),
    # unparsable: no host, bad port, bad host, control characters
    ("http://", "unparsable"),
    ("http:///path", "unparsable"),
    ("http://:80/", "unparsable"),
    ("http:example.com", "unparsable"),
    ("http://example.com:99999/", "unparsable"),
    ("http://example.com:0/", "unparsable"),
    ("http://example.com:8o/", "unparsable"),
    ("http://exa mple.com/", "unparsable"),
    ("http://exa$mple.com/", "unparsable"),
    ("http://ex%41mple.com/", "unparsable"),
    ("http://a..b.com/", "unparsable"),
    ("http://" + "a" * 64 + ".com/", "unparsable"),
    ("http://" + "a." * 127 + "com/", "unparsable"),
    ("http://xn--a.com/", "unparsable"),
    ("http://[2001:db8::zz]/", "unparsable"),
    ("http://[fe80::1%25eth0]/", "unparsable"),
    ("http://[::1]x/", "unparsable"),
    ("http://a:b:c/", "unparsable"),
    ("http://e.com/a\nb", "unparsable"),
    ("http://e.com/\x00", "unparsable"),
    ("http://e.com/a\x85b", "unparsable"),
    ("http://e.com/\ud800", "unparsable"),
]


@pytest.mark.parametrize(("raw", "reason"), REJECTED)
def test_rejection_reason(raw: str, reason: str) -> None:
    with pytest.raises(errors.InvalidUrl) as caught:
        normalize_url(raw)
    assert caught.value.reason == reason


def test_length_limit_is_inclusive_and_counts_after_trimming() -> None:
    url = "http://e.com/" + "a" * (MAX_URL_LENGTH - 13)
    assert len(url) == MAX_URL_LENGTH
    assert normalize_url(f"  {url}\n") == url


def test_reasons_are_the_bulk_add_vocabulary() -> None:
    assert errors.REJECTION_REASONS == ("not-http", "too-long", "credentials", "unparsable")


def test_every_rejection_is_a_domain_error_with_the_invalid_url_slug() -> None:
    with pytest.raises(errors.InvalidUrl) as caught:
        normalize_url("ftp://example.com/")
    assert isinstance(caught.value, DomainError)
    assert caught.value.slug == "invalid-url"
