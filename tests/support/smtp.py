"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


@dataclass
class SmtpServer:
    """Where the server listens and every message it accepted, in order.

    The server lives for the whole session: look messages up by a recipient
    unique to your test rather than by position.
    """

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The `smtp://` URL an `SmtpMailer` needs to reach this server."""
        return f"smtp://{self.host}:{self.port}"

    def received_by(self, address: str) -> list[EmailMessage]:
        """The messages whose To header names `address`."""
        return [m for m in self.messages if address in str(m["To"])]

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd hook: keep the message, accept it."""
        # SMTP carries CRLF line ends; tests compare against Python strings.
        content = envelope.content.replace(b"\r\n", b"\n")
        parsed = message_from_bytes(content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[SmtpServer]:
    """Run an SmtpServer on a free loopback port until the block ends."""
    # aiosmtpd's readiness probe connects to the configured port, so it
    # cannot be given port 0: ask the kernel for a free one first.
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port = probe.getsockname()[1]
    server = SmtpServer(HOST, port)
    controller = Controller(server, hostname=HOST, port=port)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()
