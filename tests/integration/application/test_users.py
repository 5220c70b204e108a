import re

import pytest

from application.auth.errors import InvalidCredentials
from domain.common import Context
from domain.users import errors as users_errors
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import PASSWORD, ListMailer, query

pytestmark = pytest.mark.integration

CTX = Context.system("test")


def mailer_of(trawl: Trawl) -> ListMailer:
    mailer = trawl.users.mailer
    assert isinstance(mailer, ListMailer)
    return mailer


def test_register_verify_and_sign_in(trawl: Trawl) -> None:
    user_id = trawl.users.register(CTX, "Ada@Example.org", PASSWORD, "Ada").id
    [mail] = mailer_of(trawl).sent
    [token] = re.findall(r"^([A-Za-z0-9_-]{40,})$", mail.body, flags=re.MULTILINE)

    trawl.users.verify_email(CTX, token)

    me = trawl.user_queries.me(user_id)
    assert (me.email, me.display_name, me.email_verified, me.version) == (
        "ada@example.org",
        "Ada",
        True,
        2,
    )
    assert trawl.auth.authenticate("ADA@example.org", PASSWORD).user_id == user_id


def test_a_second_account_for_one_email_is_refused(trawl: Trawl, url: str) -> None:
    trawl.users.register(CTX, "ada@example.org", PASSWORD, "Ada")

    with pytest.raises(users_errors.EmailTaken):
        trawl.users.register(CTX, "Ada@Example.Org", PASSWORD, "Ada again")

    assert len(query(url, "SELECT 1 FROM trawl_events")) == 1
    assert len(mailer_of(trawl).sent) == 1


def test_a_forgotten_user_reads_without_personal_data(trawl: Trawl) -> None:
    user_id = trawl.users.register(CTX, "ada@example.org", PASSWORD, "Ada").id

    trawl.store.vault.forget(user_id)

    me = trawl.user_queries.me(user_id)
    assert (me.email, me.display_name, me.role) == (None, None, "user")


def test_a_password_change_ends_the_old_password(trawl: Trawl) -> None:
    user_id = trawl.users.register(CTX, "ada@example.org", PASSWORD, "Ada").id

    trawl.auth.change_password(Context(f"user:{user_id}", "c"), user_id, PASSWORD, "x" * 16)

    with pytest.raises(InvalidCredentials):
        trawl.auth.authenticate("ada@example.org", PASSWORD)
    principal = trawl.auth.authenticate("ada@example.org", "x" * 16)
    assert principal.password_version == 2


def test_set_role_reaches_the_principal(trawl: Trawl) -> None:
    user_id = trawl.users.register(CTX, "ada@example.org", PASSWORD, "Ada").id

    trawl.users.set_role(Context.system("cli"), "ada@example.org", "auditor")

    assert trawl.auth.principal(user_id).role == "auditor"  # type: ignore[union-attr]
