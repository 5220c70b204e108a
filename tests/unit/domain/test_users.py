import uuid

import pytest

from domain.common import Context
from domain.users import errors, values
from domain.users.aggregate import User

pytestmark = pytest.mark.unit

CTX = Context("system:test", "corr-1")


def new_user() -> User:
    user = User.register(CTX, uuid.uuid4(), "ada@example.org", "Ada")
    user.collect_events()
    return user


def test_email_is_trimmed_and_lower_cased() -> None:
    assert values.normalize_email("  Ada.Lovelace@Example.ORG \n") == "ada.lovelace@example.org"


def test_email_is_unicode_normalized() -> None:
    decomposed = "re\u0301sume\u0301@example.org"
    composed = "r\u00e9sum\u00e9@example.org"

    assert values.normalize_email(decomposed) == values.normalize_email(composed)


@pytest.mark.parametrize(
    "email",
    [
        "",
        "ada",
        "ada@",
        "@example.org",
        "ada@example",
        "ada lovelace@example.org",
        "ada@exa mple.org",
        "ada@@example.org",
        "a@b@example.org",
        "x" * 65 + "@example.org",
        "ada@" + "d" * 250 + ".org",
    ],
)
def test_malformed_email_is_refused(email: str) -> None:
    with pytest.raises(errors.InvalidEmail):
        values.normalize_email(email)


def test_password_needs_at_least_12_characters() -> None:
    with pytest.raises(errors.WeakPassword):
        values.check_password("x" * 11)
    assert values.check_password("x" * 12) == "x" * 12


def test_absurdly_long_password_is_refused() -> None:
    with pytest.raises(errors.WeakPassword):
        values.check_password("x" * 1025)


@pytest.mark.parametrize("name", ["", "   ", "d" * 201, "Ada\x00", "Ada\nLovelace"])
def test_invalid_display_name_is_refused(name: str) -> None:
    with pytest.raises(errors.InvalidDisplayName):
        values.normalize_display_name(name)


def test_register_normalizes_email_and_display_name_and_starts_as_user() -> None:
    user = User.register(CTX, uuid.uuid4(), " Ada@Example.org ", "  Ada L. ")

    assert user.email == "ada@example.org"
    assert user.display_name == "Ada L."
    assert user.role == "user"
    assert user.email_verified is False
    [created] = user.collect_events()
    assert isinstance(created, User.Created)
    assert (created.email, created.role) == ("ada@example.org", "user")


def test_register_with_a_bad_email_creates_nothing() -> None:
    with pytest.raises(errors.InvalidEmail):
        User.register(CTX, uuid.uuid4(), "not-an-email", "Ada")


@pytest.mark.parametrize("role", ["auditor", "admin", "user"])
def test_known_roles_are_accepted(role: str) -> None:
    assert values.check_role(role) == role


@pytest.mark.parametrize("role", ["", "root", "Admin", "owner"])
def test_unknown_roles_are_refused(role: str) -> None:
    user = new_user()

    with pytest.raises(errors.InvalidRole):
        user.change_role(CTX, role)
    assert user.collect_events() == []
    assert user.role == "user"


def test_change_role_records_role_changed() -> None:
    user = new_user()

    assert user.change_role(CTX, "auditor") is True

    [event] = user.collect_events()
    assert isinstance(event, User.RoleChanged)
    assert event.role == user.role == "auditor"


def test_change_to_the_current_role_records_nothing() -> None:
    user = new_user()

    assert user.change_role(CTX, "user") is False
    assert user.collect_events() == []


def test_verify_email_once_records_one_event() -> None:
    user = new_user()

    assert user.verify_email(CTX) is True
    assert user.verify_email(CTX) is False

    assert [type(e) for e in user.collect_events()] == [User.EmailVerified]
    assert user.email_verified


def test_api_key_created_then_deleted() -> None:
    user = new_user()
    key_id = uuid.uuid4()

    user.create_api_key(CTX, key_id, "  laptop ")
    assert user.api_keys == {key_id: "laptop"}
    assert user.delete_api_key(CTX, key_id) is True

    assert user.api_keys == {}
    assert [type(e) for e in user.collect_events()] == [User.ApiKeyCreated, User.ApiKeyDeleted]


def test_deleting_an_unknown_api_key_records_nothing() -> None:
    user = new_user()

    assert user.delete_api_key(CTX, uuid.uuid4()) is False
    assert user.collect_events() == []


@pytest.mark.parametrize("name", ["", "  ", "k" * 101])
def test_api_key_name_needs_1_to_100_characters(name: str) -> None:
    user = new_user()

    with pytest.raises(errors.InvalidDisplayName):
        user.create_api_key(CTX, uuid.uuid4(), name)
    assert user.collect_events() == []


def test_credentials_never_enter_user_events() -> None:
    user = User.register(CTX, uuid.uuid4(), "ada@example.org", "Ada")
    user.record_password_change(CTX)
    user.create_api_key(CTX, uuid.uuid4(), "laptop")

    for event in user.collect_events():
        names = set(vars(event))
        assert not names & {"password", "password_hash", "key", "key_hash", "secret"}
