"""A Mailer that delivers through an SMTP server (production).

Configured by one URL: `smtp://[user:password@]host[:port][?starttls=true]`
(plain, port 25, optionally upgraded with STARTTLS) or `smtps://...` (TLS
from the first byte, port 465). User and password are percent-decoded.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from application.ports import MailMessage
from infrastructure.mail import DEFAULT_SENDER, build_email

_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to connect, parsed from the mailer URL."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    user: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> SmtpTarget:
        """Parse and validate a mailer URL; errors never echo the password."""
        parts = urlsplit(url)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            raise ValueError("mail URL must look like smtp[s]://[user:pass@]host[:port]")
        flags = parse_qs(parts.query)
        starttls = flags.pop("starttls", ["false"])[-1].lower()
        if flags or starttls not in ("true", "false"):
            raise ValueError("mail URL accepts only ?starttls=true|false")
        if starttls == "true" and parts.scheme == "smtps":
            raise ValueError("smtps:// is already TLS; drop ?starttls")
        return cls(
            host=parts.hostname,
            port=parts.port or _DEFAULT_PORTS[parts.scheme],
            implicit_tls=parts.scheme == "smtps",
            starttls=starttls == "true",
            user=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )

    def __repr__(self) -> str:
        # The dataclass repr would print the password into logs and tracebacks.
        return f"SmtpTarget(host={self.host!r}, port={self.port}, user={self.user!r})"


class SmtpMailer:
    """Sends each message over a fresh SMTP connection (mail is rare)."""

    def __init__(self, url: str, sender: str = DEFAULT_SENDER, timeout: float = 10) -> None:
        self._target = SmtpTarget.parse(url)
        self._sender = sender
        self._timeout = timeout

    def send(self, message: MailMessage) -> None:
        """Deliver or raise an `smtplib.SMTPException` / `OSError`."""
        target = self._target
        tls = ssl.create_default_context()
        smtp: smtplib.SMTP
        if target.implicit_tls:
            smtp = smtplib.SMTP_SSL(target.host, target.port, timeout=self._timeout, context=tls)
        else:
            smtp = smtplib.SMTP(target.host, target.port, timeout=self._timeout)
        with smtp:
            if target.starttls:
                smtp.starttls(context=tls)
            if target.user is not None:
                smtp.login(target.user, target.password or "")
            smtp.send_message(build_email(message, self._sender))

    def __repr__(self) -> str:
        return f"SmtpMailer({self._target!r}, sender={self._sender!r})"
