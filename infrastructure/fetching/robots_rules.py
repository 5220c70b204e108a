"""robots.txt rules as RFC 9309 reads them (the stdlib parser does not).

`urllib.robotparser` applies the first rule that matches, in file order;
RFC 9309 applies the MOST SPECIFIC one (the longest matching path pattern),
with `allow` winning a tie, and supports the `*` and `$` wildcards. The
group for our product token applies when there is one (all groups naming it
merged), else the `*` group, else nothing is disallowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit


@dataclass(frozen=True)
class Rule:
    allow: bool
    pattern: str  # the path pattern as written, percent-encoding normalized

    def match_length(self, path: str) -> int:
        """Length of the pattern when it matches `path`, else -1."""
        return len(self.pattern) if _compile(self.pattern).match(path) else -1


@dataclass
class RobotsRules:
    groups: dict[str, list[Rule]] = field(default_factory=dict)  # agent (lower) -> rules

    @classmethod
    def parse(cls, text: str) -> RobotsRules:
        rules = cls()
        agents: list[str] = []
        in_rules = False  # a user-agent line after rules starts a new group
        for raw in text.splitlines():
            line = raw.split("#", 1)[0].strip()
            name, sep, value = line.partition(":")
            if not sep:
                continue
            name, value = name.strip().lower(), value.strip()
            if name == "user-agent":
                if in_rules:
                    agents, in_rules = [], False
                agents.append(value.lower())
                for agent in agents:
                    rules.groups.setdefault(agent, [])
            elif name in ("allow", "disallow") and agents:
                in_rules = True
                if value:  # an empty disallow allows everything: no rule
                    for agent in agents:
                        rules.groups[agent].append(Rule(name == "allow", _normalize(value)))
        return rules

    def allowed(self, agent: str, url: str) -> bool:
        group = self.groups.get(agent.lower(), self.groups.get("*"))
        if not group:
            return True
        parts = urlsplit(url)
        path = _normalize((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
        if path == "/robots.txt":
            return True
        best: Rule | None = None
        best_length = -1
        for rule in group:
            length = rule.match_length(path)
            if length > best_length or (length == best_length and rule.allow):
                best, best_length = rule, length
        return best is None or best.allow


def _normalize(path: str) -> str:
    """One percent-encoding for both sides of a match (unreserved characters decoded)."""
    return quote(unquote(path), safe="/?&=*$:@!,;+~-._%")


_CACHE: dict[str, re.Pattern[str]] = {}


def _compile(pattern: str) -> re.Pattern[str]:
    compiled = _CACHE.get(pattern)
    if compiled is None:
        anchored = pattern.endswith("$")
        body = pattern[:-1] if anchored else pattern
        regex = ".*".join(re.escape(piece) for piece in body.split("*"))
        compiled = re.compile(regex + ("$" if anchored else ""))
        if len(_CACHE) < 10_000:
            _CACHE[pattern] = compiled
    return compiled
