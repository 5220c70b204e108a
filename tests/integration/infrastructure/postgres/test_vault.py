import base64
import uuid

import pytest

from infrastructure.postgres import vault as vault_module
from infrastructure.postgres.positions import PositionWatcher
from infrastructure.postgres.vault import PostgresKeyVault
from interfaces.bootstrap import Trawl
from tests.integration.infrastructure.postgres.helpers import query, wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def vault(trawl: Trawl) -> PostgresKeyVault:
    return PostgresKeyVault(trawl.store.recorder.datastore)  # type: ignore[attr-defined]


def keys(url: str) -> dict[uuid.UUID, bytes]:
    rows = query(url, "SELECT subject_id, key FROM trawl_subject_keys")
    return {r["subject_id"]: bytes(r["key"]) for r in rows}


def test_each_subject_gets_its_own_key(vault: PostgresKeyVault, url: str) -> None:
    ada, bob = uuid.uuid4(), uuid.uuid4()

    sealed = vault.encrypt(ada, "ada@example.org")
    vault.encrypt(ada, "again")
    vault.encrypt(bob, "bob@example.org")

    stored = keys(url)
    assert set(stored) == {ada, bob}
    assert stored[ada] != stored[bob]
    assert vault.decrypt(ada, sealed) == "ada@example.org"
    with pytest.raises(ValueError):
        vault.decrypt(bob, sealed)


def test_keys_are_shared_between_processes(vault: PostgresKeyVault, trawl: Trawl) -> None:
    subject = uuid.uuid4()
    sealed = vault.encrypt(subject, "ada@example.org")

    other = PostgresKeyVault(trawl.store.recorder.datastore)  # type: ignore[attr-defined]

    assert other.decrypt(subject, sealed) == "ada@example.org"
    assert other.digest(subject, "x") == vault.digest(subject, "x")


def test_forget_deletes_the_key_and_fields_read_as_none(
    vault: PostgresKeyVault, trawl: Trawl, url: str
) -> None:
    subject = uuid.uuid4()
    sealed = vault.encrypt(subject, "ada@example.org")

    vault.forget(subject)

    assert subject not in keys(url)
    assert vault.decrypt(subject, sealed) is None
    fresh = PostgresKeyVault(trawl.store.recorder.datastore)  # type: ignore[attr-defined]
    assert fresh.decrypt(subject, sealed) is None
    forgotten = query(url, "SELECT subject_id FROM trawl_forgotten_subjects")
    assert forgotten == [{"subject_id": subject}]


def test_no_new_key_is_created_for_a_forgotten_subject(
    vault: PostgresKeyVault, trawl: Trawl, url: str
) -> None:
    subject = uuid.uuid4()
    vault.encrypt(subject, "ada@example.org")
    vault.forget(subject)

    with pytest.raises(ValueError, match="forgotten"):
        vault.encrypt(subject, "ada again")
    other = PostgresKeyVault(trawl.store.recorder.datastore)  # type: ignore[attr-defined]
    with pytest.raises(ValueError):
        other.encrypt(subject, "through another process")
    with pytest.raises(ValueError):
        other.digest(subject, "x")
    assert subject not in keys(url)


def test_a_tampered_ciphertext_fails(vault: PostgresKeyVault) -> None:
    subject = uuid.uuid4()
    raw = bytearray(base64.b64decode(vault.encrypt(subject, "ada@example.org")))
    raw[20] ^= 0x40

    with pytest.raises(ValueError, match="authentication"):
        vault.decrypt(subject, base64.b64encode(bytes(raw)).decode())


def test_forgetting_a_subject_never_seen_still_blocks_it(vault: PostgresKeyVault, url: str) -> None:
    subject = uuid.uuid4()

    vault.forget(subject)

    with pytest.raises(ValueError):
        vault.encrypt(subject, "too late")
    assert keys(url) == {}


def test_forgetting_in_one_process_shreds_for_the_others_too(trawl: Trawl) -> None:
    datastore = trawl.store.recorder.datastore  # type: ignore[attr-defined]
    subject = uuid.uuid4()
    api_one, api_two = PostgresKeyVault(datastore), PostgresKeyVault(datastore)
    listener = PositionWatcher(datastore)  # api_two's process listener, as bootstrap wires it
    listener.on(vault_module.CHANNEL, api_two.evict, on_connect=api_two.clear_cache)
    listener.start()
    try:
        sealed = api_one.encrypt(subject, "ada@example.org")
        assert api_two.decrypt(subject, sealed) == "ada@example.org"  # api_two caches the key

        api_one.forget(subject)

        wait_until(lambda: api_two.decrypt(subject, sealed) is None, what="api_two to evict")
    finally:
        listener.stop()
