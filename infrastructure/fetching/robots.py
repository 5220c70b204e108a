"""robots.txt for the fetch step (RFC 9309), read through the safe fetcher.

One robots.txt per origin (scheme, host, port), cached for `ttl` seconds
(at most `max_origins` of them, least recently used dropped). What an answer
means, as RFC 9309 says:

- 2xx: its rules apply to our user agent (`TrawlBot`), else to `*`, the
  longest matching rule deciding (robots_rules.py);
- 4xx (404 included): no rules, everything is allowed;
- 5xx, timeouts, connection errors: unreachable for now. The RFC would
  disallow everything; we raise a transient FetchError instead, so the
  fetch is retried later rather than recorded as `blocked` for good.

A refused address, a non-http URL or a TLS failure would refuse the page
too, so they are re-raised as they are.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from application.ports import Fetcher, FetchError, FetchRequest
from infrastructure.fetching.robots_rules import RobotsRules

AGENT = "TrawlBot"
MAX_ROBOTS_BYTES = 512 * 1024  # RFC 9309: parse at least 500 KiB
# Errors that would refuse the page itself: the fetch fails with them.
_PAGE_FATE = ("not-http", "address-refused", "tls-failed")


class RobotsCache:
    def __init__(
        self,
        fetcher: Fetcher,
        *,
        ttl: float = 3600.0,
        max_origins: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.fetcher = fetcher
        self.ttl = ttl
        self.max_origins = max_origins
        self.clock = clock
        self._rules: OrderedDict[str, tuple[float, RobotsRules]] = OrderedDict()
        self._lock = threading.Lock()

    def allowed(self, url: str) -> bool:
        """May `url` be fetched? Raises a transient FetchError when robots.txt is unreachable."""
        return self._rules_for(url).allowed(AGENT, url)

    def _rules_for(self, url: str) -> RobotsRules:
        parts = urlsplit(url)
        origin = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        now = self.clock()
        with self._lock:
            cached = self._rules.get(origin)
            if cached is not None and cached[0] > now:
                self._rules.move_to_end(origin)
                return cached[1]
        rules = self._fetch(origin)
        with self._lock:
            self._rules[origin] = (now + self.ttl, rules)
            self._rules.move_to_end(origin)
            while len(self._rules) > self.max_origins:
                self._rules.popitem(last=False)
        return rules

    def _fetch(self, origin: str) -> RobotsRules:
        try:
            result = self.fetcher.fetch(FetchRequest(origin + "/robots.txt"))
        except FetchError as error:
            if error.transient:  # 5xx, 429, timeouts, connection errors
                raise FetchError("robots-unreachable", str(error), transient=True) from error
            if error.reason in _PAGE_FATE:
                raise
            return RobotsRules()  # no usable robots.txt (404, ...): everything is allowed
        return RobotsRules.parse(result.body[:MAX_ROBOTS_BYTES].decode("utf-8", "replace"))
