import hashlib
import json
import re
import uuid

import pytest

from application import records
from application.auth.tokens import InvalidToken, TokenSigner
from application.personal import is_encrypted
from application.store import NotFound
from application.users.commands import EMAIL_SCOPE, email_claim
from domain.common import Context
from domain.users import errors as users_errors
from domain.users.aggregate import User
from interfaces.bootstrap import Trawl
from tests.unit.application.helpers import (
    PASSWORD,
    ListMailer,
    notifications,
    register,
    states,
    token_from,
)

pytestmark = pytest.mark.unit


def test_personal_fields_are_encrypted_in_the_stored_event(trawl: Trawl) -> None:
    user_id = register(trawl, "Ada.Lovelace@Example.org", "Ada Lovelace")

    [stored] = notifications(trawl)
    assert stored.topic == User.Created.TOPIC
    for needle in (b"ada.lovelace@example.org", b"Ada.Lovelace", b"Ada Lovelace", b"Lovelace"):
        assert needle not in stored.state
    state = json.loads(stored.state)
    for field in ("email", "display_name"):
        assert is_encrypted(state[field])
        assert state[field]["subject"] == str(user_id)
        assert state[field]["enc"]


def test_the_loaded_user_holds_the_plaintext(trawl: Trawl) -> None:
    user_id = register(trawl, " Ada@Example.org ", "Ada L.")

    user = trawl.store.load(User, user_id)

    assert (user.email, user.display_name, user.role) == ("ada@example.org", "Ada L.", "user")


def test_forgetting_the_subject_erases_email_and_name(trawl: Trawl) -> None:
    user_id = register(trawl)

    trawl.store.vault.forget(user_id)

    user = trawl.store.load(User, user_id)
    assert user.email is None
    assert user.display_name is None
    me = trawl.user_queries.me(user_id)
    assert (me.email, me.display_name, me.role) == (None, None, "user")


def test_forgetting_one_user_leaves_the_others_readable(trawl: Trawl) -> None:
    ada = register(trawl, "ada@example.org")
    bob = register(trawl, "bob@example.org", "Bob")

    trawl.store.vault.forget(ada)

    assert trawl.store.load(User, bob).email == "bob@example.org"


def test_the_email_claim_is_a_keyed_hash_not_the_address(trawl: Trawl) -> None:
    user_id = register(trawl, "ada@example.org")

    claim = email_claim(trawl.store.vault, "ADA@example.org")

    assert re.fullmatch(r"[0-9a-f]{64}", claim)
    assert claim != hashlib.sha256(b"ada@example.org").hexdigest()
    assert trawl.store.side.claim_owner(EMAIL_SCOPE, claim) == user_id


def test_the_password_is_stored_only_as_a_hash_beside_the_events(trawl: Trawl) -> None:
    user_id = register(trawl)

    principal = trawl.store.side.principal(user_id)
    assert principal is not None
    assert principal.password_hash.startswith("$argon2id$")
    assert PASSWORD not in principal.password_hash
    assert all(PASSWORD not in json.dumps(state) for state in states(trawl))
    assert all(principal.password_hash not in json.dumps(state) for state in states(trawl))


@pytest.mark.parametrize("again", ["ada@example.org", "ADA@Example.ORG", "  Ada@example.org "])
def test_email_is_unique_case_insensitively(trawl: Trawl, again: str) -> None:
    register(trawl, "ada@example.org")

    with pytest.raises(users_errors.EmailTaken):
        register(trawl, again, "Impostor")


def test_a_refused_registration_writes_no_event_no_principal_no_mail(
    trawl: Trawl, mailer: ListMailer
) -> None:
    first = register(trawl, "ada@example.org")
    recorder = trawl.store.recorder

    with pytest.raises(users_errors.EmailTaken):
        register(trawl, "Ada@Example.org", "Impostor")

    assert [n.originator_id for n in notifications(trawl)] == [first]
    assert list(recorder.principals) == [first]  # type: ignore[attr-defined]
    assert list(recorder.claims.values()) == [first]  # type: ignore[attr-defined]
    assert len(mailer.sent) == 1


@pytest.mark.parametrize(
    ("email", "password", "name", "error"),
    [
        ("ada@example.org", "short", "Ada", users_errors.WeakPassword),
        ("not-an-email", PASSWORD, "Ada", users_errors.InvalidEmail),
        ("ada@example.org", PASSWORD, "  ", users_errors.InvalidDisplayName),
    ],
)
def test_invalid_registration_writes_nothing(
    trawl: Trawl,
    mailer: ListMailer,
    email: str,
    password: str,
    name: str,
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        trawl.users.register(Context.system("test"), email, password, name)

    assert notifications(trawl) == []
    assert mailer.sent == []


def test_registration_mails_a_verification_token(trawl: Trawl, mailer: ListMailer) -> None:
    register(trawl, "Ada@Example.org", "Ada")

    [message] = mailer.sent
    assert message.to == "ada@example.org"
    assert "Ada" in message.body
    assert "/api/v1/auth/verify-email" in message.body
    assert token_from(message.body)


def test_the_token_from_the_mail_verifies_the_email(trawl: Trawl, mailer: ListMailer) -> None:
    user_id = register(trawl)
    token = token_from(mailer.sent[0].body)

    result = trawl.users.verify_email(Context.system("test"), token)

    assert result.id == user_id
    assert result.version == 2
    user = trawl.store.load(User, user_id)
    assert user.email_verified
    assert notifications(trawl)[-1].topic == User.EmailVerified.TOPIC


def test_verifying_twice_records_one_event(trawl: Trawl, mailer: ListMailer) -> None:
    register(trawl)
    token = token_from(mailer.sent[0].body)

    trawl.users.verify_email(Context.system("test"), token)
    again = trawl.users.verify_email(Context.system("test"), token)

    assert again.version == 2
    assert [n.topic for n in notifications(trawl)].count(User.EmailVerified.TOPIC) == 1


def test_a_verified_user_gets_no_second_mail(trawl: Trawl, mailer: ListMailer) -> None:
    user_id = register(trawl)
    trawl.users.verify_email(Context.system("test"), token_from(mailer.sent[0].body))

    assert trawl.users.send_verification(user_id) is False
    assert len(mailer.sent) == 1


@pytest.mark.parametrize("token", ["", "garbage", "A" * 59, "!!!!"])
def test_a_malformed_token_is_invalid(trawl: Trawl, token: str) -> None:
    with pytest.raises(InvalidToken):
        trawl.users.verify_email(Context.system("test"), token)


def test_a_tampered_token_is_invalid(trawl: Trawl, mailer: ListMailer) -> None:
    register(trawl)
    token = token_from(mailer.sent[0].body)
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")

    with pytest.raises(InvalidToken):
        trawl.users.verify_email(Context.system("test"), tampered)


def test_an_expired_token_is_invalid(trawl: Trawl) -> None:
    user_id = register(trawl)
    expired = TokenSigner(trawl.jwt_secret).sign("verify-email", user_id, -1)

    with pytest.raises(InvalidToken, match="expired"):
        trawl.users.verify_email(Context.system("test"), expired)
    assert trawl.store.load(User, user_id).email_verified is False


def test_a_token_for_another_purpose_or_secret_is_invalid(trawl: Trawl) -> None:
    user_id = register(trawl)
    other_purpose = TokenSigner(trawl.jwt_secret).sign("reset-password", user_id, 60)
    other_secret = TokenSigner("another secret").sign("verify-email", user_id, 60)

    for token in (other_purpose, other_secret):
        with pytest.raises(InvalidToken):
            trawl.users.verify_email(Context.system("test"), token)


def test_a_valid_token_for_an_unknown_account_is_not_found(trawl: Trawl) -> None:
    token = TokenSigner(trawl.jwt_secret).sign("verify-email", uuid.uuid4(), 60)

    with pytest.raises(NotFound):
        trawl.users.verify_email(Context.system("test"), token)


def test_a_failing_mailer_does_not_fail_the_registration(trawl: Trawl) -> None:
    class BrokenMailer:
        def send(self, message: object) -> None:
            raise OSError("mail server down")

    trawl.users.mailer = BrokenMailer()

    user_id = register(trawl)

    assert trawl.store.load(User, user_id).email == "ada@example.org"
    assert trawl.users.send_verification(user_id) is False


def test_a_forgotten_user_gets_no_verification_mail(trawl: Trawl, mailer: ListMailer) -> None:
    user_id = register(trawl)
    trawl.store.vault.forget(user_id)

    assert trawl.users.send_verification(user_id) is False
    assert len(mailer.sent) == 1


def test_registration_records_a_principal_with_role_user(trawl: Trawl) -> None:
    user_id = register(trawl)

    principal = trawl.store.side.principal(user_id)

    assert principal == records.Principal(user_id, "user", principal.password_hash, 1)  # type: ignore[union-attr]
