"""Personal data never appears in plaintext anywhere in the database."""

import json

import pytest

from application.personal import is_encrypted
from domain.common import Context
from domain.users.aggregate import User
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import PASSWORD, query

pytestmark = pytest.mark.integration

PEOPLE = [("Ada.Lovelace@Example.org", "Ada Lovelace"), ("grace@example.org", "Grace Hopper")]


def register_people(trawl: Trawl) -> list[User]:
    ids = [trawl.users.register(Context.system("t"), e, PASSWORD, n).id for e, n in PEOPLE]
    return [trawl.store.load(User, i) for i in ids]


def every_table_as_text(url: str) -> str:
    tables = query(
        url,
        "SELECT quote_ident(table_name) AS name FROM information_schema.tables"
        " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    dumped = []
    for table in tables:
        # bytea renders as hex in text: decode event states to see their JSON.
        rows = query(url, f"SELECT t::text AS row FROM {table['name']} t")
        dumped.extend(r["row"] for r in rows)
    states = query(url, "SELECT convert_from(state, 'UTF8') AS state FROM trawl_events")
    dumped.extend(r["state"] for r in states)
    return "\n".join(dumped).lower()


def test_the_stored_event_holds_encrypted_fields(trawl: Trawl, url: str) -> None:
    users = register_people(trawl)

    rows = query(url, "SELECT originator_id, state FROM trawl_events ORDER BY notification_id")

    for user, row in zip(users, rows, strict=True):
        state = json.loads(bytes(row["state"]))
        for field in ("email", "display_name"):
            assert is_encrypted(state[field])
            assert state[field]["subject"] == str(user.id)


def test_no_table_holds_an_email_a_display_name_or_a_password(trawl: Trawl, url: str) -> None:
    users = register_people(trawl)
    trawl.auth.change_password(
        Context(f"user:{users[0].id}", "c"), users[0].id, PASSWORD, "another long passphrase"
    )

    everything = every_table_as_text(url)

    for email, name in PEOPLE:
        assert email.lower() not in everything
        assert name.lower() not in everything
        assert email.split("@")[0].lower() not in everything
    assert PASSWORD not in everything
    assert "another long passphrase" not in everything


def test_loading_decrypts_and_forgetting_shreds(trawl: Trawl, url: str) -> None:
    ada, grace = register_people(trawl)
    assert (ada.email, ada.display_name) == ("ada.lovelace@example.org", "Ada Lovelace")

    trawl.store.vault.forget(ada.id)

    forgotten = trawl.store.load(User, ada.id)
    assert (forgotten.email, forgotten.display_name) == (None, None)
    assert trawl.store.load(User, grace.id).email == "grace@example.org"
    keys = query(url, "SELECT subject_id FROM trawl_subject_keys WHERE subject_id = %s", (ada.id,))
    assert keys == []
