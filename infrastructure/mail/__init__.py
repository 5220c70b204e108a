"""Mailer adapters: a directory of .eml files (default) and SMTP.

Both render a port message the same way, with `build_email`.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from application.ports import MailMessage

DEFAULT_SENDER = "trawl@localhost"


def build_email(message: MailMessage, sender: str) -> EmailMessage:
    """The RFC 5322 form of a port message: plain text, UTF-8 when needed."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.to
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    email.set_content(message.body)
    return email
