"""Shares on Postgres: revocation at its position, invitations over real SMTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from infrastructure.auth.passwords import Argon2PasswordHasher
from infrastructure.mail.smtp import SmtpMailer
from infrastructure.settings import Settings
from interfaces.bootstrap import bootstrap
from interfaces.http.app import create_app
from tests.support.smtp import SmtpServer
from tests.unit.interfaces.http.api import (
    Api,
    assert_problem,
    invitation_token_in,
    share_token,
    unique_email,
)

pytestmark = pytest.mark.integration

Auth = dict[str, str]


def waiting(auth: Auth, answer: Any) -> Auth:
    """`auth`, reading at the position of the command that gave `answer`."""
    return {**auth, "X-Trawl-Wait-For": answer.headers["x-trawl-position"]}


def test_a_revocation_takes_effect_once_its_position_is_applied(api: Api, alice: Auth) -> None:
    bob, email = api.verified_user("bob")
    project = api.create_project(alice)["id"]
    url = f"/api/v1/projects/{project}"
    granted = api.client.post(
        f"{url}/shares", json={"email": email, "role": "viewer"}, headers=alice
    )
    assert granted.json()["kind"] == "share"
    read = api.client.get(url, headers=waiting(bob, granted))
    assert (read.status_code, read.json()["role"]) == (200, "viewer")

    revoked = api.client.delete(f"/api/v1/shares/{granted.json()['id']}", headers=alice)
    assert revoked.status_code == 200
    assert_problem(api.client.get(url, headers=waiting(bob, revoked)), 404, "not-found")
    listed = api.client.get(f"{url}/shares", headers=waiting(alice, revoked)).json()
    assert listed["items"] == []


def test_a_revoked_link_stops_working_at_once(api: Api, alice: Auth) -> None:
    project = api.create_project(alice)["id"]
    link = api.link(alice, project, "editor")
    url = f"/api/v1/projects/{project}"
    holder = {**share_token(link["token"]), "X-Trawl-Wait-For": str(link["position"])}
    assert api.client.get(url, headers=holder).json()["role"] == "editor"
    api.client.delete(f"{url}/share-links/{link['id']}", headers=alice)
    assert_problem(api.client.get(url, headers=holder), 404, "not-found")


class SmtpInbox:
    """The tokens Trawl mailed, read from what the SMTP server received."""

    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    def _last(self, to: str, subject_word: str) -> str:
        messages = [m for m in self.server.received_by(to) if subject_word in str(m["Subject"])]
        assert messages, f"no {subject_word!r} mail to {to}"
        content: str = messages[-1].get_content()
        return content

    def verification_token(self, to: str) -> str:
        return invitation_token_in(self._last(to, "Verify"))

    def invitation_token(self, to: str) -> str:
        return invitation_token_in(self._last(to, "invited"))


@pytest.fixture
def smtp_api(settings: Settings, database_url: str, smtp_server: SmtpServer) -> Iterator[Api]:
    mailer = SmtpMailer(smtp_server.url, timeout=5)
    hasher = Argon2PasswordHasher(time_cost=1, memory_cost=1024)
    trawl = bootstrap(settings, database_url, mailer=mailer, hasher=hasher, run_projectors=True)
    try:
        with TestClient(create_app(trawl)) as client:
            yield Api(client, SmtpInbox(smtp_server))
    finally:
        trawl.close()


def test_an_invitation_mailed_over_smtp_is_accepted_with_its_token(smtp_api: Api) -> None:
    api = smtp_api
    owner = api.user("owner")
    project = api.create_project(owner)["id"]
    email = unique_email("invitee")
    invited = api.client.post(
        f"/api/v1/projects/{project}/shares", json={"email": email, "role": "editor"}, headers=owner
    )
    assert invited.json()["kind"] == "invitation"
    token = api.mailer.invitation_token(email)

    assert api.register(email).status_code == 201
    api.verify(email)
    invitee = {"Authorization": f"Bearer {api.token(email).json()['access_token']}"}
    accepted = api.client.post(f"/api/v1/invitations/{token}/accept", headers=invitee)
    assert accepted.status_code == 200, accepted.text
    read = api.client.get(f"/api/v1/projects/{project}", headers=waiting(invitee, accepted))
    assert (read.status_code, read.json()["role"]) == (200, "editor")
