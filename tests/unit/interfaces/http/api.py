"""A small client vocabulary for HTTP tests: users, tokens, projects, shares."""

from __future__ import annotations

import re
import uuid
from typing import Any, Protocol

from litestar.testing import TestClient

from application.ports import MailMessage

PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r"\n\n([A-Za-z0-9_-]{20,})\n\n")
_LINE_TOKEN = re.compile(r"^([A-Za-z0-9_-]{20,})$", re.MULTILINE)


class Inbox(Protocol):
    """Where tests read the tokens Trawl mails."""

    def verification_token(self, to: str) -> str: ...

    def invitation_token(self, to: str) -> str: ...


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

    def invitation_token(self, to: str) -> str:
        """The token of the last invitation mailed to `to`."""
        body = next(
            m.body for m in reversed(self.messages) if m.to == to and "invited" in m.subject
        )
        return invitation_token_in(body)


def invitation_token_in(body: str) -> str:
    """The token an invitation mail carries (on a line of its own)."""
    found = _LINE_TOKEN.search(body)
    assert found, body
    return found.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def share_token(token: str) -> dict[str, str]:
    return {"X-Share-Token": token}


def unique_email(name: str = "user") -> str:
    return f"{name}-{uuid.uuid4().hex[:8]}@example.org"


class Api:
    def __init__(self, client: TestClient[Any], mailer: Inbox) -> None:
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

    def verified_user(self, name: str = "user") -> tuple[dict[str, str], str]:
        """Register, verify the email and sign in: the Authorization header and the email."""
        email = unique_email(name)
        assert self.register(email).status_code == 201
        self.verify(email)
        answer = self.token(email)
        assert answer.status_code == 200, answer.text
        return bearer(answer.json()["access_token"]), email

    def verify(self, email: str) -> None:
        token = self.mailer.verification_token(email)
        answer = self.client.post("/api/v1/auth/verify-email", json={"token": token})
        assert answer.status_code == 200, answer.text

    def create_project(self, auth: dict[str, str], name: str = "Reef", **extra: Any) -> Any:
        answer = self.client.post("/api/v1/projects", json={"name": name, **extra}, headers=auth)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def share(self, auth: dict[str, str], project_id: str, email: str, role: str) -> Any:
        """Grant (or invite) and expect it to work: the answer's body."""
        answer = self.client.post(
            f"/api/v1/projects/{project_id}/shares",
            json={"email": email, "role": role},
            headers=auth,
        )
        assert answer.status_code == 201, answer.text
        return answer.json()

    def link(
        self, auth: dict[str, str], project_id: str, role: str = "viewer", seconds: int = 3600
    ) -> Any:
        """A new share link: the answer's body (with its token)."""
        answer = self.client.post(
            f"/api/v1/projects/{project_id}/share-links",
            json={"role": role, "expires_in_seconds": seconds},
            headers=auth,
        )
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
