"""A resolver fake standing in for socket.getaddrinfo."""

from __future__ import annotations

import socket


class FakeResolver:
    """getaddrinfo for made-up names: each name answers its queue of IPs in turn.

    The last answer repeats; every call is recorded.
    """

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self._answers = {name: list(ips) for name, ips in answers.items()}
        self.calls: list[str] = []

    def set(self, host: str, *ips: str) -> None:
        self._answers[host] = list(ips)

    def __call__(self, host: str, port: int) -> list[tuple[object, ...]]:
        self.calls.append(host)
        queue = self._answers.get(host)
        if not queue:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        ip = queue.pop(0) if len(queue) > 1 else queue[0]
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (ip, port))]
