import pytest

from infrastructure.auth.passwords import Argon2PasswordHasher

pytestmark = pytest.mark.unit


@pytest.fixture
def hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher(time_cost=1, memory_cost=1024)


def test_a_hash_verifies_its_password_only(hasher: Argon2PasswordHasher) -> None:
    hashed = hasher.hash("correct horse battery")

    assert hashed.startswith("$argon2id$")
    assert hasher.verify(hashed, "correct horse battery")
    assert not hasher.verify(hashed, "correct horse batterY")


def test_hashes_are_salted(hasher: Argon2PasswordHasher) -> None:
    assert hasher.hash("same password") != hasher.hash("same password")


@pytest.mark.parametrize("hashed", ["", "plain", "$argon2id$garbage"])
def test_a_malformed_hash_verifies_nothing(hasher: Argon2PasswordHasher, hashed: str) -> None:
    assert hasher.verify(hashed, "anything") is False
