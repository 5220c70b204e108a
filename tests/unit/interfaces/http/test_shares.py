"""Shares and invitations over HTTP: grant, change, revoke, leave, accept, list."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from interfaces.bootstrap import Trawl
from tests.unit.interfaces.http.api import Api, ListMailer, assert_problem, unique_email

pytestmark = pytest.mark.unit

Auth = dict[str, str]


@pytest.fixture
def project(api: Api, alice: Auth) -> str:
    project_id: str = api.create_project(alice)["id"]
    return project_id


@pytest.fixture
def bob_verified(api: Api) -> tuple[Auth, str]:
    return api.verified_user("bob")


def shares_url(project_id: str) -> str:
    return f"/api/v1/projects/{project_id}/shares"


def grant(api: Api, auth: Auth, project_id: str, email: str, role: str = "viewer") -> Any:
    return api.client.post(
        shares_url(project_id), json={"email": email, "role": role}, headers=auth
    )


def test_a_grant_to_a_verified_account_applies_at_once(
    api: Api, alice: Auth, project: str, bob_verified: tuple[Auth, str]
) -> None:
    bob, email = bob_verified
    granted = grant(api, alice, project, email.upper())
    assert granted.status_code == 201
    assert set(granted.json()) == {"id", "version", "position", "kind"}
    assert granted.json()["kind"] == "share"
    assert granted.headers["x-trawl-position"] == str(granted.json()["position"])

    read = api.client.get(f"/api/v1/projects/{project}", headers=bob)
    assert read.json()["role"] == "viewer"
    listed = api.client.get("/api/v1/projects", headers=bob).json()["items"]
    assert [(p["id"], p["role"]) for p in listed] == [(project, "viewer")]


def test_granting_twice_is_409_and_to_the_owner_422(
    api: Api, alice: Auth, project: str, bob_verified: tuple[Auth, str]
) -> None:
    _, email = bob_verified
    grant(api, alice, project, email)
    assert_problem(grant(api, alice, project, email, "editor"), 409, "already-shared")
    alice_email = api.client.get("/api/v1/me", headers=alice).json()["email"]
    assert_problem(grant(api, alice, project, alice_email), 422, "owner-cannot-be-granted")


def test_a_role_other_than_viewer_or_editor_is_422(api: Api, alice: Auth, project: str) -> None:
    answer = grant(api, alice, project, unique_email(), "owner")
    assert_problem(answer, 422, "invalid-role")


def test_the_owner_changes_a_role(
    api: Api, alice: Auth, project: str, bob_verified: tuple[Auth, str]
) -> None:
    bob, email = bob_verified
    share_id = grant(api, alice, project, email).json()["id"]
    changed = api.client.patch(f"/api/v1/shares/{share_id}", json={"role": "editor"}, headers=alice)
    assert (changed.status_code, changed.json()["version"]) == (200, 2)
    assert api.client.get(f"/api/v1/projects/{project}", headers=bob).json()["role"] == "editor"


def test_revoking_twice_answers_200_and_changes_nothing(
    api: Api, trawl: Trawl, alice: Auth, project: str, bob_verified: tuple[Auth, str]
) -> None:
    bob, email = bob_verified
    share_id = grant(api, alice, project, email).json()["id"]
    first = api.client.delete(f"/api/v1/shares/{share_id}", headers=alice)
    head = trawl.store.head()
    second = api.client.delete(f"/api/v1/shares/{share_id}", headers=alice)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["version"] == first.json()["version"] == 2
    assert trawl.store.head() == head
    assert_problem(api.client.get(f"/api/v1/projects/{project}", headers=bob), 404, "not-found")
    ended = api.client.patch(f"/api/v1/shares/{share_id}", json={"role": "editor"}, headers=alice)
    assert_problem(ended, 404, "not-found")


def test_an_unknown_share_is_404(api: Api, alice: Auth) -> None:
    unknown = "/api/v1/shares/00000000-0000-0000-0000-000000000000"
    assert_problem(api.client.delete(unknown, headers=alice), 404, "not-found")


def test_a_grantee_leaves_and_sees_nothing_more(
    api: Api, alice: Auth, project: str, bob_verified: tuple[Auth, str]
) -> None:
    bob, email = bob_verified
    grant(api, alice, project, email)
    leave = f"/api/v1/projects/{project}/leave"
    assert api.client.post(leave, headers=bob).status_code == 200
    assert_problem(api.client.get(f"/api/v1/projects/{project}", headers=bob), 404)
    assert_problem(api.client.post(leave, headers=bob), 404, "not-found")
    assert_problem(api.client.post(leave, headers=alice), 404, "not-found")  # owns, no share


def test_leaving_an_archived_project_is_409_and_a_deleted_one_404(
    api: Api, alice: Auth, project: str, bob_verified: tuple[Auth, str]
) -> None:
    bob, email = bob_verified
    grant(api, alice, project, email)
    leave = f"/api/v1/projects/{project}/leave"
    api.client.post(f"/api/v1/projects/{project}/archive", headers=alice)
    assert_problem(api.client.post(leave, headers=bob), 409, "project-archived")
    api.client.delete(f"/api/v1/projects/{project}", headers=alice)
    assert_problem(api.client.post(leave, headers=bob), 404, "not-found")


def test_an_invitation_is_accepted_by_the_verified_invitee_only(
    api: Api, alice: Auth, project: str
) -> None:
    email = unique_email("dan")
    invited = grant(api, alice, project, email, "editor")
    assert (invited.status_code, invited.json()["kind"]) == (201, "invitation")
    token = api.mailer.invitation_token(email)
    accept = f"/api/v1/invitations/{token}/accept"

    mallory, _ = api.verified_user("mallory")
    assert_problem(api.client.post(accept, headers=mallory), 403, "invitation-email-mismatch")

    assert api.register(email).status_code == 201
    dan_unverified = api.token(email).json()["access_token"]
    refused = api.client.post(accept, headers={"Authorization": f"Bearer {dan_unverified}"})
    assert_problem(refused, 403, "invitation-email-mismatch")

    api.verify(email)
    accepted = api.client.post(accept, headers={"Authorization": f"Bearer {dan_unverified}"})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["project_id"] == project
    dan = {"Authorization": f"Bearer {dan_unverified}"}
    assert api.client.get(f"/api/v1/projects/{project}", headers=dan).json()["role"] == "editor"
    assert_problem(api.client.post(accept, headers=dan), 404, "not-found")


def test_an_unknown_invitation_token_is_404(api: Api, alice: Auth) -> None:
    answer = api.client.post("/api/v1/invitations/not-a-token/accept", headers=alice)
    assert_problem(answer, 404, "not-found")


def test_a_withdrawn_invitation_cannot_be_accepted(api: Api, alice: Auth, project: str) -> None:
    email = unique_email("erin")
    invitation_id = grant(api, alice, project, email).json()["id"]
    token = api.mailer.invitation_token(email)
    assert api.client.delete(f"/api/v1/shares/{invitation_id}", headers=alice).status_code == 200
    api.register(email)
    api.verify(email)
    erin = {"Authorization": f"Bearer {api.token(email).json()['access_token']}"}
    answer = api.client.post(f"/api/v1/invitations/{token}/accept", headers=erin)
    assert_problem(answer, 404, "not-found")


def test_the_owner_lists_shares_and_pending_invitations_with_emails(
    api: Api, alice: Auth, project: str, bob_verified: tuple[Auth, str]
) -> None:
    bob, email = bob_verified
    grant(api, alice, project, email, "editor")
    invitee = unique_email("zoe")
    grant(api, alice, project, invitee)
    page = api.client.get(shares_url(project), headers=alice).json()
    assert page["next_cursor"] is None
    assert {(s["kind"], s["email"], s["role"]) for s in page["items"]} == {
        ("share", email, "editor"),
        ("invitation", invitee, "viewer"),
    }
    assert set(page["items"][0]) == {"id", "kind", "grantee_id", "email", "role", "created_at"}
    assert_problem(api.client.get(shares_url(project), headers=bob), 403, "forbidden")


def test_share_pages_cover_every_share_once(api: Api, alice: Auth, project: str) -> None:
    created = {grant(api, alice, project, unique_email()).json()["id"] for _ in range(5)}
    seen: list[str] = []
    cursor = ""
    while cursor is not None:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.client.get(shares_url(project) + query, headers=alice).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(created)


def test_a_replayed_grant_answers_the_same_and_mails_once(
    api: Api, mailer: ListMailer, alice: Auth, project: str
) -> None:
    email = unique_email()
    headers = {**alice, "Idempotency-Key": "grant-1"}
    body = {"email": email, "role": "viewer"}
    first = api.client.post(shares_url(project), json=body, headers=headers)
    again = api.client.post(shares_url(project), json=body, headers=headers)
    assert again.json() == first.json()
    assert again.headers["idempotency-replayed"] == "true"
    assert len([m for m in mailer.messages if m.to == email]) == 1


def test_share_events_carry_the_request_id(
    api: Api, trawl: Trawl, alice: Auth, project: str
) -> None:
    headers = {**alice, "X-Request-Id": "share-trace-1"}
    share_id = grant(api, headers, project, unique_email()).json()["id"]
    api.client.delete(f"/api/v1/shares/{share_id}", headers=headers)
    events = list(trawl.store.events.get(UUID(share_id)))
    assert [e.correlation_id for e in events] == ["share-trace-1"] * 2  # type: ignore[attr-defined]
