import json
import uuid

import pytest

from application.auth.commands import API_KEY_PREFIX
from application.auth.errors import InvalidCredentials
from application.store import NotFound
from domain.common import Context
from domain.users import errors as users_errors
from domain.users.aggregate import User
from interfaces.bootstrap import Trawl
from tests.unit.application.helpers import PASSWORD, notifications, register, states

pytestmark = pytest.mark.unit

NEW_PASSWORD = "another long passphrase"


def ctx_for(user_id: uuid.UUID) -> Context:
    return Context(f"user:{user_id}", "corr")


def test_sign_in_with_email_in_any_case(trawl: Trawl) -> None:
    user_id = register(trawl, "ada@example.org")

    principal = trawl.auth.authenticate(" ADA@example.org", PASSWORD)

    assert principal.user_id == user_id
    assert principal.role == "user"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("ada@example.org", "wrong password!!"),
        ("nobody@example.org", PASSWORD),
        ("not an email", PASSWORD),
    ],
)
def test_wrong_credentials_are_refused_alike(trawl: Trawl, email: str, password: str) -> None:
    register(trawl, "ada@example.org")

    with pytest.raises(InvalidCredentials, match="wrong email or password"):
        trawl.auth.authenticate(email, password)


def test_password_change_bumps_the_password_version(trawl: Trawl) -> None:
    user_id = register(trawl)

    trawl.auth.change_password(ctx_for(user_id), user_id, PASSWORD, NEW_PASSWORD)

    principal = trawl.auth.principal(user_id)
    assert principal is not None
    assert principal.password_version == 2
    assert notifications(trawl)[-1].topic == User.PasswordChanged.TOPIC


def test_after_a_password_change_only_the_new_password_works(trawl: Trawl) -> None:
    user_id = register(trawl, "ada@example.org")

    trawl.auth.change_password(ctx_for(user_id), user_id, PASSWORD, NEW_PASSWORD)

    with pytest.raises(InvalidCredentials):
        trawl.auth.authenticate("ada@example.org", PASSWORD)
    assert trawl.auth.authenticate("ada@example.org", NEW_PASSWORD).user_id == user_id


def test_password_change_needs_the_current_password(trawl: Trawl) -> None:
    user_id = register(trawl)
    head = trawl.store.head()

    with pytest.raises(InvalidCredentials):
        trawl.auth.change_password(ctx_for(user_id), user_id, "not my password", NEW_PASSWORD)

    assert trawl.store.head() == head
    assert trawl.auth.principal(user_id).password_version == 1  # type: ignore[union-attr]


def test_a_weak_new_password_is_refused(trawl: Trawl) -> None:
    user_id = register(trawl)

    with pytest.raises(users_errors.WeakPassword):
        trawl.auth.change_password(ctx_for(user_id), user_id, PASSWORD, "short")

    assert trawl.auth.principal(user_id).password_version == 1  # type: ignore[union-attr]


def test_passwords_never_enter_events(trawl: Trawl) -> None:
    user_id = register(trawl)
    trawl.auth.change_password(ctx_for(user_id), user_id, PASSWORD, NEW_PASSWORD)

    dumped = json.dumps(states(trawl))

    assert PASSWORD not in dumped
    assert NEW_PASSWORD not in dumped
    assert trawl.auth.principal(user_id).password_hash not in dumped  # type: ignore[union-attr]


def test_a_new_api_key_is_answered_once_and_listed_without_its_secret(trawl: Trawl) -> None:
    user_id = register(trawl)

    result = trawl.auth.create_api_key(ctx_for(user_id), user_id, "laptop")

    raw = result.extra["key"]
    assert raw.startswith(API_KEY_PREFIX)
    [row] = trawl.auth.list_api_keys(user_id)
    assert str(row.key_id) == result.extra["key_id"]
    assert (row.name, row.user_id) == ("laptop", user_id)
    assert row.prefix == raw[:12]
    assert raw not in json.dumps(states(trawl))


def test_an_api_key_authenticates_as_its_user(trawl: Trawl) -> None:
    user_id = register(trawl)
    result = trawl.auth.create_api_key(ctx_for(user_id), user_id, "laptop")

    caller = trawl.auth.caller_for_api_key(result.extra["key"])

    assert caller is not None
    assert caller.user_id == user_id
    assert caller.role == "user"
    assert caller.actor == f"key:{result.extra['key_id']}"


@pytest.mark.parametrize(
    "raw", ["", "trawl_", "trawl_unknown", "sk_live_abc", "trawl_" + "x" * 300]
)
def test_unknown_api_keys_authenticate_nobody(trawl: Trawl, raw: str) -> None:
    user_id = register(trawl)
    trawl.auth.create_api_key(ctx_for(user_id), user_id, "laptop")

    assert trawl.auth.caller_for_api_key(raw) is None


def test_a_deleted_api_key_stops_working(trawl: Trawl) -> None:
    user_id = register(trawl)
    result = trawl.auth.create_api_key(ctx_for(user_id), user_id, "laptop")
    key_id = uuid.UUID(result.extra["key_id"])

    trawl.auth.delete_api_key(ctx_for(user_id), user_id, key_id)

    assert trawl.auth.list_api_keys(user_id) == []
    assert trawl.auth.caller_for_api_key(result.extra["key"]) is None
    assert key_id not in trawl.store.load(User, user_id).api_keys


def test_deleting_an_unknown_api_key_is_not_found(trawl: Trawl) -> None:
    user_id = register(trawl)
    head = trawl.store.head()

    with pytest.raises(NotFound):
        trawl.auth.delete_api_key(ctx_for(user_id), user_id, uuid.uuid4())

    assert trawl.store.head() == head


def test_api_keys_are_listed_per_user(trawl: Trawl) -> None:
    ada = register(trawl, "ada@example.org")
    bob = register(trawl, "bob@example.org")
    trawl.auth.create_api_key(ctx_for(ada), ada, "first")
    trawl.auth.create_api_key(ctx_for(ada), ada, "second")
    trawl.auth.create_api_key(ctx_for(bob), bob, "bobs")

    assert [k.name for k in trawl.auth.list_api_keys(ada)] == ["first", "second"]
    assert [k.name for k in trawl.auth.list_api_keys(bob)] == ["bobs"]


def test_an_api_key_caller_follows_role_changes(trawl: Trawl) -> None:
    user_id = register(trawl)
    raw = trawl.auth.create_api_key(ctx_for(user_id), user_id, "laptop").extra["key"]

    trawl.users.set_role(Context.system("cli"), str(user_id), "auditor")

    caller = trawl.auth.caller_for_api_key(raw)
    assert caller is not None
    assert caller.role == "auditor"
    assert caller.is_auditor
