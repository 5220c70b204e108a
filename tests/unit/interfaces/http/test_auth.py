"""Accounts over HTTP: register, verify, sign in, password, rate limit."""

from __future__ import annotations

import pytest

from tests.unit.interfaces.http.api import (
    PASSWORD,
    Api,
    ListMailer,
    assert_problem,
    bearer,
    unique_email,
)

pytestmark = pytest.mark.unit


def test_register_verify_sign_in_and_read_me(api: Api, mailer: ListMailer) -> None:
    email = unique_email("ada")
    created = api.register(email)
    assert created.status_code == 201
    assert created.headers["x-trawl-position"] == str(created.json()["position"])

    token = mailer.verification_token(email)
    verified = api.client.post("/api/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 200
    signed_in = api.token(email.upper())
    assert signed_in.status_code == 200
    assert signed_in.json()["token_type"] == "bearer"
    assert signed_in.json()["expires_in"] > 0

    me = api.client.get("/api/v1/me", headers=bearer(signed_in.json()["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == created.json()["id"]
    assert me.json()["email"] == email
    assert me.json()["email_verified"] is True
    assert set(me.json()) == {"id", "email", "display_name", "role", "email_verified", "created_at"}


def test_registering_an_email_again_in_any_case_is_409(api: Api) -> None:
    email = unique_email()
    assert api.register(email).status_code == 201
    assert_problem(api.register("  " + email.upper()), 409, "email-taken")


def test_a_weak_password_is_422(api: Api) -> None:
    assert_problem(api.register(unique_email(), password="short"), 422, "weak-password")


def test_an_invalid_email_is_422(api: Api) -> None:
    assert_problem(api.register("not-an-email"), 422, "invalid-email")


def test_a_forged_verification_token_is_400(api: Api) -> None:
    answer = api.client.post("/api/v1/auth/verify-email", json={"token": "A" * 59})
    assert_problem(answer, 400, "invalid-token")


def test_me_without_a_token_is_401(api: Api) -> None:
    answer = assert_problem(api.client.get("/api/v1/me"), 401, "unauthorized")
    assert "email" not in answer


def test_a_garbage_bearer_token_is_401(api: Api) -> None:
    assert_problem(api.client.get("/api/v1/me", headers=bearer("nope.nope.nope")), 401)


def test_a_wrong_password_is_401(api: Api) -> None:
    email = unique_email()
    api.register(email)
    assert_problem(api.token(email, "wrong password!!"), 401, "invalid-credentials")


def test_changing_the_password_kills_older_tokens(api: Api) -> None:
    email = unique_email()
    api.register(email)
    old = bearer(api.token(email).json()["access_token"])
    body = {"current": PASSWORD, "new": "another long passphrase"}
    changed = api.client.post("/api/v1/auth/password", json=body, headers=old)
    assert changed.status_code == 200

    assert_problem(api.client.get("/api/v1/me", headers=old), 401)
    new = bearer(api.token(email, "another long passphrase").json()["access_token"])
    assert api.client.get("/api/v1/me", headers=new).status_code == 200


def test_a_wrong_current_password_changes_nothing(api: Api, alice: dict[str, str]) -> None:
    body = {"current": "not my password", "new": "another long passphrase"}
    answer = api.client.post("/api/v1/auth/password", json=body, headers=alice)
    assert_problem(answer, 401, "invalid-credentials")
    assert api.client.get("/api/v1/me", headers=alice).status_code == 200


def test_sign_in_is_rate_limited_per_email(api: Api) -> None:
    email = unique_email()
    api.register(email)
    for _ in range(5):  # the limit in these tests
        assert api.token(email, "wrong password!!").status_code == 401
    refused = assert_problem(api.token(email.upper()), 429, "rate-limited")
    assert refused["status"] == 429
    assert int(api.token(email).headers["retry-after"]) >= 1


def test_sign_in_is_rate_limited_per_client_address(api: Api) -> None:
    for _ in range(5):
        api.token(unique_email(), "whatever it is")
    assert_problem(api.token(unique_email(), "whatever it is"), 429, "rate-limited")


def test_resending_the_verification_mail(api: Api, mailer: ListMailer) -> None:
    email = unique_email()
    api.register(email)
    auth = bearer(api.token(email).json()["access_token"])
    resend = api.client.post("/api/v1/auth/verify-email/resend", headers=auth)
    assert resend.status_code == 200
    assert resend.json() == {"sent": True}
    assert len([m for m in mailer.messages if m.to == email]) == 2

    api.client.post("/api/v1/auth/verify-email", json={"token": mailer.verification_token(email)})
    again = api.client.post("/api/v1/auth/verify-email/resend", headers=auth)
    assert again.json() == {"sent": False}
