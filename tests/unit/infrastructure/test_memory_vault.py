import base64
import uuid

import pytest

from infrastructure import crypto
from infrastructure.memory.vault import MemoryKeyVault

pytestmark = pytest.mark.unit


def test_encrypt_then_decrypt_gives_the_plaintext() -> None:
    vault = MemoryKeyVault()
    subject = uuid.uuid4()

    sealed = vault.encrypt(subject, "ada@example.org")

    assert "ada" not in sealed
    assert vault.decrypt(subject, sealed) == "ada@example.org"


def test_the_same_plaintext_encrypts_differently_each_time() -> None:
    vault = MemoryKeyVault()
    subject = uuid.uuid4()

    assert vault.encrypt(subject, "ada") != vault.encrypt(subject, "ada")


def test_each_subject_has_its_own_key() -> None:
    vault = MemoryKeyVault()
    ada, bob = uuid.uuid4(), uuid.uuid4()
    sealed = vault.encrypt(ada, "ada@example.org")
    vault.encrypt(bob, "bob@example.org")

    vault.forget(bob)

    assert vault.decrypt(ada, sealed) == "ada@example.org"


def test_a_field_cannot_be_opened_as_another_subject() -> None:
    vault = MemoryKeyVault()
    ada, bob = uuid.uuid4(), uuid.uuid4()
    vault.encrypt(bob, "bob")
    sealed = vault.encrypt(ada, "ada@example.org")

    with pytest.raises(ValueError):
        vault.decrypt(bob, sealed)


def test_forget_makes_fields_unreadable() -> None:
    vault = MemoryKeyVault()
    subject = uuid.uuid4()
    sealed = vault.encrypt(subject, "ada@example.org")

    vault.forget(subject)

    assert vault.decrypt(subject, sealed) is None


def test_no_new_key_is_created_for_a_forgotten_subject() -> None:
    vault = MemoryKeyVault()
    subject = uuid.uuid4()
    vault.encrypt(subject, "ada")
    vault.forget(subject)

    with pytest.raises(ValueError, match="forgotten"):
        vault.encrypt(subject, "ada again")
    assert vault.decrypt(subject, "anything") is None


def test_a_tampered_ciphertext_fails() -> None:
    vault = MemoryKeyVault()
    subject = uuid.uuid4()
    raw = bytearray(base64.b64decode(vault.encrypt(subject, "ada@example.org")))
    raw[-1] ^= 0x01

    with pytest.raises(ValueError, match="authentication"):
        vault.decrypt(subject, base64.b64encode(bytes(raw)).decode())


def test_digest_is_stable_per_subject_and_keyed() -> None:
    vault, other_vault = MemoryKeyVault(), MemoryKeyVault()
    subject = uuid.uuid4()

    first = vault.digest(subject, "ada@example.org")

    assert vault.digest(subject, "ada@example.org") == first
    assert vault.digest(subject, "bob@example.org") != first
    assert vault.digest(uuid.uuid4(), "ada@example.org") != first
    assert other_vault.digest(subject, "ada@example.org") != first


def test_crypto_binds_the_subject_as_associated_data() -> None:
    key = crypto.new_key()
    ada, bob = uuid.uuid4(), uuid.uuid4()

    sealed = crypto.encrypt(key, ada, "secret")

    assert crypto.decrypt(key, ada, sealed) == "secret"
    with pytest.raises(ValueError):
        crypto.decrypt(key, bob, sealed)
    with pytest.raises(ValueError):
        crypto.decrypt(crypto.new_key(), ada, sealed)


def test_digest_for_a_forgotten_subject_is_refused_like_postgres() -> None:
    vault = MemoryKeyVault()
    subject = uuid.uuid4()
    vault.forget(subject)

    with pytest.raises(ValueError, match="forgotten"):
        vault.digest(subject, "ada@example.org")
