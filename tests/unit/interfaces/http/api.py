"""A small client vocabulary for HTTP tests: users, tokens, projects."""

from __future__ import annotations

import re
import uuid
from typing import Any

from litestar.testing import TestClient

from application.ports import MailMessage

PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r"\n\n([A-Za-z0-9_-]{20,})\n\n")


class ListMailer:
    """Keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[MailMessage] = []

    def send(self, message: MailMessage) -> None:
        self.messages.append(message)

    def verification_token(self, to: str) -> str:
        body = next(m.body for m in reversed(self.messages) if m.to == to.strip().lower())
        found = _TOKEN.search(body)
        assert found, body
        return found.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unique_email(name: str = "user") -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.org"


class Api:
    def __init__(self, client: TestClient[Any], mailer: ListMailer) -> None:
        self.client = client
        self.mailer = mailer

    def register(self, email: str, password: str = PASSWORD, **headers: str) -> Any:
        body = {"email": email, "password": password, "display_name": "Ada"}
        return self.client.post("/api/v1/auth/register", json=body, headers=headers)

    def token(self, email: str, password: str = PASSWORD) -> Any:
        return self.client.post("/api/v1/auth/token", json={"email": email, "password": password})

    def user(self, name: str = "user") -> dict[str, str]:
        """Register a fresh account and sign in: its Authorization header."""
        email = unique_email(name)
        assert self.register(email).status_code == 201
        answer = self.token(email)
        assert answer.status_code == 200, answer.text
        return bearer(answer.json()["access_token"])

    def create_project(self, auth: dict[str, str], name: str = "Reef", **extra: Any) -> Any:
        answer = self.client.post("/api/v1/projects", json={"name": name, **extra}, headers=auth)
        assert answer.status_code == 201, answer.text
        return answer.json()


def assert_problem(answer: Any, status: int, slug: str | None = None) -> dict[str, Any]:
    """The answer is problem+json with this status (and slug)."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = answer.json()
    assert body["status"] == status
    assert body["type"].startswith("/problems/")
    assert body["title"] and isinstance(body["detail"], str)
    if slug is not None:
        assert body["type"] == f"/problems/{slug}", body
    return body
