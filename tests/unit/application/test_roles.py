import pytest

from application.store import NotFound
from domain.common import Context
from domain.users import errors as users_errors
from domain.users.aggregate import User
from interfaces.bootstrap import Trawl
from tests.unit.application.helpers import notifications, register

pytestmark = pytest.mark.unit

CLI = Context.system("cli")


def test_set_role_by_email_records_role_changed_and_updates_the_principal(trawl: Trawl) -> None:
    user_id = register(trawl, "ada@example.org")

    result = trawl.users.set_role(CLI, "ADA@example.org", "admin")

    assert result.id == user_id
    last = notifications(trawl)[-1]
    assert last.topic == User.RoleChanged.TOPIC
    assert last.originator_id == user_id
    assert trawl.store.load(User, user_id).role == "admin"
    assert trawl.auth.principal(user_id).role == "admin"  # type: ignore[union-attr]


def test_set_role_by_id(trawl: Trawl) -> None:
    user_id = register(trawl)

    trawl.users.set_role(CLI, str(user_id), "auditor")

    assert trawl.auth.principal(user_id).role == "auditor"  # type: ignore[union-attr]


def test_setting_the_current_role_records_nothing(trawl: Trawl) -> None:
    user_id = register(trawl)
    head = trawl.store.head()

    result = trawl.users.set_role(CLI, str(user_id), "user")

    assert trawl.store.head() == head
    assert result.version == 1


def test_an_unknown_role_is_refused(trawl: Trawl) -> None:
    user_id = register(trawl)

    with pytest.raises(users_errors.InvalidRole):
        trawl.users.set_role(CLI, str(user_id), "superuser")
    assert trawl.auth.principal(user_id).role == "user"  # type: ignore[union-attr]


@pytest.mark.parametrize("who", ["nobody@example.org", "0b5c1a9e-2f7d-4e41-9a63-7d2c1e5f8a10"])
def test_an_unknown_account_is_not_found(trawl: Trawl, who: str) -> None:
    register(trawl)

    with pytest.raises(NotFound):
        trawl.users.set_role(CLI, who, "admin")


def test_the_role_change_event_names_the_system_actor(trawl: Trawl) -> None:
    user_id = register(trawl)

    trawl.users.set_role(CLI, str(user_id), "admin")

    user = trawl.store.load(User, user_id)
    events = list(trawl.store.events.get(user.id))
    assert events[-1].actor == "system:cli"  # type: ignore[attr-defined]
    assert events[-1].correlation_id == CLI.correlation_id  # type: ignore[attr-defined]
