"""robots.txt rules through a fake fetcher: RFC 9309's answers, caching, expiry."""

from __future__ import annotations

import pytest

from application.ports import FetchError, FetchRequest, FetchResult
from infrastructure.fetching.robots import RobotsCache
from infrastructure.fetching.robots_rules import RobotsRules

pytestmark = pytest.mark.unit

RULES = b"""
User-agent: *
Disallow: /private/

User-agent: TrawlBot
Disallow: /no-trawl/
Allow: /no-trawl/but-this
"""


class Fetcher:
    def __init__(self, answer: bytes | FetchError) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def fetch(self, request: FetchRequest) -> FetchResult:
        self.asked.append(request.url)
        if isinstance(self.answer, FetchError):
            raise self.answer
        return FetchResult(200, request.url, "text/plain", self.answer, None, None, False, [])


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_our_own_group_wins_over_the_star_group() -> None:
    robots = RobotsCache(Fetcher(RULES))
    assert not robots.allowed("https://a.example/no-trawl/page")
    assert robots.allowed("https://a.example/no-trawl/but-this")
    assert robots.allowed("https://a.example/private/page")  # only `*` is denied there
    assert robots.allowed("https://a.example/")


def test_a_missing_robots_txt_allows_everything() -> None:
    assert RobotsCache(Fetcher(FetchError("http-4xx", "404"))).allowed("https://a.example/x")


@pytest.mark.parametrize(
    "error",
    [
        FetchError("http-5xx", "503", transient=True),
        FetchError("http-4xx", "429", transient=True),
        FetchError("timeout", transient=True),
    ],
)
def test_an_unreachable_robots_txt_is_a_transient_error(error: FetchError) -> None:
    with pytest.raises(FetchError) as raised:
        RobotsCache(Fetcher(error)).allowed("https://a.example/x")
    assert raised.value.reason == "robots-unreachable" and raised.value.transient


def test_a_refused_address_stays_the_pages_fate() -> None:
    with pytest.raises(FetchError) as raised:
        RobotsCache(Fetcher(FetchError("address-refused"))).allowed("https://a.example/x")
    assert raised.value.reason == "address-refused"


def test_one_fetch_per_origin_until_it_expires() -> None:
    fetcher, clock = Fetcher(RULES), Clock()
    robots = RobotsCache(fetcher, ttl=60, clock=clock)
    robots.allowed("https://a.example/1")
    robots.allowed("https://a.example/2")
    robots.allowed("https://a.example:8443/1")
    assert fetcher.asked == ["https://a.example/robots.txt", "https://a.example:8443/robots.txt"]
    clock.now = 61
    robots.allowed("https://a.example/3")
    assert fetcher.asked[-1] == "https://a.example/robots.txt" and len(fetcher.asked) == 3


def test_the_cache_is_bounded() -> None:
    fetcher = Fetcher(RULES)
    robots = RobotsCache(fetcher, max_origins=2)
    for host in ("a", "b", "c", "a"):
        robots.allowed(f"https://{host}.example/")
    assert len(fetcher.asked) == 4  # `a` was dropped when `c` came


@pytest.mark.parametrize(
    ("rules", "path", "allowed"),
    [
        ("Disallow: /a\nAllow: /a/b", "/a/b/c", True),  # longest match wins, not the first
        ("Allow: /a/b\nDisallow: /a", "/a/x", False),
        ("Disallow: /*.pdf$", "/docs/x.pdf", False),
        ("Disallow: /*.pdf$", "/docs/x.pdf?y", True),
        ("Disallow: /p*q", "/pXXq/z", False),
        ("Disallow: /a\nAllow: /a", "/a", True),  # a tie goes to allow
        ("Disallow:", "/anything", True),
        ("Disallow: /%7Euser", "/~user/x", False),
        ("Disallow: /", "/robots.txt", True),
    ],
)
def test_rfc_9309_matching(rules: str, path: str, allowed: bool) -> None:
    parsed = RobotsRules.parse("User-agent: *\n" + rules)
    assert parsed.allowed("TrawlBot", "https://a.example" + path) is allowed


def test_groups_naming_several_agents_and_comments() -> None:
    parsed = RobotsRules.parse(
        "# hello\nUser-agent: other\nUser-agent: trawlbot # us\nDisallow: /x\n\n"
        "User-agent: *\nDisallow: /\n"
    )
    assert not parsed.allowed("TrawlBot", "https://a.example/x/1")
    assert parsed.allowed("TrawlBot", "https://a.example/y")
    assert not parsed.allowed("SomeoneElse", "https://a.example/y")
