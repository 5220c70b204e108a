"""Reads of the in-memory log that tests use to check what was written."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from eventsourcing.persistence import Notification

from application.ports import MailMessage
from domain.common import Context
from interfaces.bootstrap import Trawl

PASSWORD = "correct horse battery staple"


class ListMailer:
    """A Mailer fake: keeps every message in order."""

    def __init__(self) -> None:
        self.sent: list[MailMessage] = []

    def send(self, message: MailMessage) -> None:
        self.sent.append(message)

    def to(self, address: str) -> list[MailMessage]:
        return [m for m in self.sent if m.to == address]


def register(trawl: Trawl, email: str = "ada@example.org", name: str = "Ada") -> uuid.UUID:
    """A registered account's id."""
    return trawl.users.register(Context.system("test"), email, PASSWORD, name).id


def notifications(trawl: Trawl) -> list[Notification]:
    return list(trawl.store.recorder.select_notifications(1, limit=100_000))


def states(trawl: Trawl) -> list[dict[str, Any]]:
    """Every stored event's state, as the JSON the recorder holds."""
    return [json.loads(n.state) for n in notifications(trawl)]


def topics(trawl: Trawl) -> list[str]:
    return [n.topic for n in notifications(trawl)]


def token_from(body: str) -> str:
    """The verification token a mail carries (on a line of its own)."""
    [token] = re.findall(r"^([A-Za-z0-9_-]{40,})$", body, flags=re.MULTILINE)
    return token
